"""Database size after many messages, before and after the nightly prune (SQLite).

    python bench/bench_storage.py [--messages 100000] [--per-day 2700] [--actionable 0.02]

Messages (unique texts, 2 % actionable as in the article's district) go through the real router
on the simulated clock, `--per-day` a day (2,700 a day is about 1M a year); replies are marked
sent each evening, as the outbox would have sent them. Then the prune runs as the nightly job
would. Sizes are per table (SQLite's dbstat), so the figure for 1M messages is extrapolated per
table: tables the prune bounds by age (message ids, sent outbox rows) stay as they are after
pruning, the rest (counters, active senders within their 400 days, consultations ...) grow
linearly. The extrapolation is printed beside the measured figures and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import update  # noqa: E402

from bench.bench_pipeline import groups_config, make_messages  # noqa: E402
from bot import pruning  # noqa: E402
from bot.app import App  # noqa: E402
from bot.clock import SHANGHAI, FakeClock  # noqa: E402
from bot.logs import setup_logging  # noqa: E402
from bot.messages import IncomingMessage  # noqa: E402
from bot.transport import MemoryTransport  # noqa: E402
from bot.vault import test_key  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from tests.conftest import make_config  # noqa: E402

BOUNDED = {"processed_messages", "outbox", "ix_processed_messages_received_at", "uq_outbox_dedup", "ix_outbox_due",
           "sqlite_autoindex_processed_messages_1", "dialog_states", "sqlite_autoindex_dialog_states_1"}


def table_sizes(path: str) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


async def main(n: int, per_day: int, actionable: float, groups: int) -> None:
    setup_logging("ERROR")
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/size.db"
        officer = {"name": "张警官", "id": "wx_zhang", "role": "officer"}
        config = make_config(f"sqlite+aiosqlite:///{path}", groups=groups_config(groups), contacts=[officer])
        clock = FakeClock(datetime(2026, 1, 5, 8, 0, tzinfo=SHANGHAI))
        app = App(config, MemoryTransport(clock.now), secret_key=test_key(), clock=clock, tally_interval=3600)
        await app.start()
        app.outbox.pause()
        await app.scheduler.remove(pruning.JOB_ID)  # "before" is without it; it runs once at the end
        rooms = [(g.room_id, g.name) for g in config.groups]
        messages = make_messages(n, rooms, random.Random(1), actionable)
        day_start = clock.now()
        for i, msg in enumerate(messages):
            if i and i % per_day == 0:
                await end_of_day(app)
                day_start += timedelta(days=1)
            clock.set(day_start + timedelta(seconds=(i % per_day) * 12 * 3600 / per_day))
            await app.router.handle_event(IncomingMessage(**{**msg.__dict__, "at": clock.now()}))
        await end_of_day(app)
        days = (clock.now() - datetime(2026, 1, 5, 8, 0, tzinfo=SHANGHAI)).days + 1
        before = table_sizes(path)
        pruned = await pruning.prune(app)
        after = table_sizes(path)
        await app.stop()
        file_size = Path(path).stat().st_size + (Path(path + "-wal").stat().st_size if Path(path + "-wal").exists() else 0)
        with sqlite3.connect(path) as conn:
            conn.execute("VACUUM")
        vacuumed = Path(path).stat().st_size
    total_before, total_after = sum(before.values()), sum(after.values())
    scale = 1_000_000 / n
    bounded_after = sum(v for k, v in after.items() if k in BOUNDED)
    growing_after = total_after - bounded_after
    print(f"{n:,} messages over {days} days ({per_day:,} a day, {actionable:.0%} actionable, {groups} groups):")
    print(f"  before pruning: {mb(total_before)} in tables (file and WAL {mb(file_size)})")
    print(f"  pruned: {pruned}")
    print(f"  after pruning:  {mb(total_after)} in tables (file after VACUUM {mb(vacuumed)}; without it SQLite reuses the freed pages)")
    top = sorted(before, key=lambda k: -before[k])[:8]
    print("  largest before -> after: " + ", ".join(f"{k} {mb(before[k])} -> {mb(after.get(k, 0))}" for k in top))
    print(f"  1M messages (extrapolated x{scale:.0f} from this run): before pruning ~{mb(total_before * scale)}; "
          f"after ~{mb(bounded_after + growing_after * scale)} (age-bounded tables as measured, the rest x{scale:.0f})")


async def end_of_day(app: App) -> None:
    await app.tally.flush()
    async with app.sessions.begin() as session:  # what the outbox would have sent that day
        await session.execute(update(OutboxMessage).where(OutboxMessage.status == "pending")
                              .values(status="sent", sent_at=app.clock.now()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--per-day", type=int, default=2700)
    parser.add_argument("--actionable", type=float, default=0.02)
    parser.add_argument("--groups", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.per_day, args.actionable, args.groups))
