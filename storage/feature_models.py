"""Imports every feature's models so Base.metadata knows all tables (for Alembic and tests)."""

# Feature issues add one import line each, e.g. `from storage import appointments  # noqa: F401`.
from storage import understanding  # noqa: F401
