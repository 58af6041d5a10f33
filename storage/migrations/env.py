"""Alembic environment: always given a live connection by storage.db.upgrade."""

from alembic import context

from storage.models import Base
import storage.feature_models  # noqa: F401  (registers every feature table on Base.metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `jingmin db upgrade` (it supplies the database connection)")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
