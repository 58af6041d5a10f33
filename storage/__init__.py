"""Persistence: typed SQLAlchemy models, Alembic migrations and the queries. Sends nothing."""
