"""Developer tool: autogenerate the next migration from the models.

    python -m storage.new_migration "add bookings" 0002_bookings
"""

import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from storage.db import alembic_config


def main() -> None:
    message, rev_id = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'autogen.db'}")
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
    # Migrations spell the column type plainly, so they never import the models.
    for path in (Path(__file__).parent / "migrations" / "versions").glob(f"{rev_id}*.py"):
        text = path.read_text().replace("storage.models.UTCDateTime(", "sa.DateTime(")
        path.write_text(text)
        path.rename(path.with_name(f"{rev_id}.py"))


if __name__ == "__main__":
    main()
