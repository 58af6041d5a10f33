"""Imports every feature's models so Base.metadata knows all tables (for Alembic and tests)."""

# Feature issues add one import line each, e.g. `from storage import appointments  # noqa: F401`.
from storage import stats  # noqa: F401,E402
from storage import pushes  # noqa: F401
from storage import appointments  # noqa: F401
from storage import tips  # noqa: F401
from storage import understanding  # noqa: F401
from storage import calendar_days  # noqa: F401
from storage import guide  # noqa: F401
from storage import console  # noqa: F401
