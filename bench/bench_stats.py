"""How long the weekly report's queries take on a district-sized database.

One year of counters for 189 groups (the district in the article has 189 communities): messages
per day and per hour, distinct senders, and the sparser feature counters. Then the weekly report
is gathered (last week, the week before, since the start, active people, daily series) the way
the Monday job does it. Target: under 200 ms on SQLite and on PostgreSQL.

    .venv/bin/python bench/bench_stats.py                          # SQLite in a temporary folder
    .venv/bin/python bench/bench_stats.py postgresql+asyncpg://postgres@127.0.0.1:5432/test
      (the PostgreSQL run creates and drops a database of its own on that server)
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handlers.stats import report as reports  # noqa: E402
from handlers.stats.report import MESSAGE_METRICS  # noqa: E402
from storage import db, stats  # noqa: E402

BOT = "district"
GROUPS = 189
TODAY = date(2026, 12, 14)  # a Monday: the report covers 12-07..12-13
DAYS = 365
CATEGORIES = ["resident"] * 120 + ["building"] * 50 + ["work"] * 10 + ["merchant"] * 9
ACTIVE_HOURS = range(7, 22)
TOPICS = ["residence-permit", "id-card", "no-criminal-record", "office-hours", "hukou"]
RUNS = 20


def generate(rng: random.Random):
    """Yield counter rows and active-sender rows as tuples."""
    counter_rows, sender_rows = [], []
    start = TODAY - timedelta(days=DAYS)
    for g in range(GROUPS):
        room, category = f"room:{g:03d}", CATEGORIES[g]
        for d in range(DAYS):
            day = start + timedelta(days=d)
            total = 0
            for hour in ACTIVE_HOURS:
                n = rng.randint(0, 6)
                if n:
                    counter_rows.append((BOT, day, hour, room, "messages", "", category, n))
                    total += n
            counter_rows.append((BOT, day, -1, room, "messages", "", category, total))
            if rng.random() < 0.3:
                counter_rows.append((BOT, day, -1, room, "messages_image", "", category, rng.randint(1, 5)))
            if rng.random() < 0.5:
                counter_rows.append((BOT, day, -1, room, "consultations", "answered", category, rng.randint(1, 3)))
                counter_rows.append((BOT, day, -1, room, "consultation_topics", rng.choice(TOPICS), category, 1))
            if rng.random() < 0.15:
                counter_rows.append((BOT, day, -1, room, "consultations", "forwarded", category, 1))
            if rng.random() < 0.2:
                counter_rows.append((BOT, day, -1, room, "suggestions", "", category, 1))
            if rng.random() < 0.3:
                counter_rows.append((BOT, day, -1, room, "new_members", "", category, rng.randint(1, 3)))
            if day.weekday() == 0:
                counter_rows.append((BOT, day, -1, room, "pushes", "antifraud", category, 1))
            for s in rng.sample(range(200), rng.randint(3, 15)):
                sender_rows.append((BOT, day, room, f"{g:03d}{s:029d}"))
        # private chats: tips and appointments are counted with room ''
    for d in range(DAYS):
        day = start + timedelta(days=d)
        counter_rows.append((BOT, day, -1, "", "tips", "毒品", "", rng.randint(0, 2)))
        counter_rows.append((BOT, day, -1, "", "appointments_booked", "居住证", "", rng.randint(0, 8)))
    return counter_rows, sender_rows


COUNTER_COLS = "(bot, day, hour, room_id, metric, key, category, value)"
SENDER_COLS = "(bot, day, room_id, sender_hash)"


def load_sqlite(path: str, counter_rows, sender_rows) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.executemany(f"INSERT INTO counters {COUNTER_COLS} VALUES (?,?,?,?,?,?,?,?)",
                     [(*r[:1], r[1].isoformat(), *r[2:]) for r in counter_rows])
    conn.executemany(f"INSERT INTO active_senders {SENDER_COLS} VALUES (?,?,?,?)",
                     [(r[0], r[1].isoformat(), r[2], r[3]) for r in sender_rows])
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def load_postgres(dsn: str, counter_rows, sender_rows) -> None:
    import io

    import psycopg2

    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        for table, cols, rows in (("counters", COUNTER_COLS, counter_rows),
                                  ("active_senders", SENDER_COLS, sender_rows)):
            buf = io.StringIO("".join("\t".join(str(v) for v in r) + "\n" for r in rows))
            cur.copy_expert(f"COPY {table} {cols} FROM STDIN", buf)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    conn.close()


async def weekly_report_queries(sessions) -> None:
    period = reports.last_week(TODAY)
    async with sessions.begin() as session:
        await reports.gather(session, BOT, period, today=TODAY)
        await stats.daily(session, BOT, period.start, period.end, MESSAGE_METRICS + reports.CHART_METRICS)


async def measure(url: str, load) -> dict[str, float]:
    engine = db.create_engine(url)
    await db.upgrade(engine)
    await engine.dispose()
    rng = random.Random(189)
    counter_rows, sender_rows = generate(rng)
    t = time.perf_counter()
    load(counter_rows, sender_rows)
    print(f"  loaded {len(counter_rows):,} counter rows and {len(sender_rows):,} sender rows "
          f"in {time.perf_counter() - t:.1f} s")
    engine = db.create_engine(url)
    sessions = db.session_factory(engine)
    try:
        t = time.perf_counter()
        await weekly_report_queries(sessions)  # first run also rolls up the closed months
        cold = (time.perf_counter() - t) * 1000
        timings = []
        for _ in range(RUNS):
            t = time.perf_counter()
            await weekly_report_queries(sessions)
            timings.append((time.perf_counter() - t) * 1000)
    finally:
        await engine.dispose()
    return {"first (rolls up 12 months)": cold, "median": statistics.median(timings), "max": max(timings)}


def report(name: str, figures: dict[str, float]) -> bool:
    ok = figures["median"] < 200
    print(f"{name}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in figures.items()) + ("  OK" if ok else "  TOO SLOW"))
    return ok


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        print("SQLite")
        figures = asyncio.run(measure(f"sqlite+aiosqlite:///{path}",
                                      lambda c, s: load_sqlite(str(path), c, s)))
        ok &= report("SQLite", figures)
    if len(sys.argv) > 1:
        from sqlalchemy.engine import make_url

        import psycopg2

        base = make_url(sys.argv[1])
        name = f"jingmin_bench_{uuid.uuid4().hex[:8]}"
        admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
        admin = psycopg2.connect(admin_dsn)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        try:
            url = base.set(database=name).render_as_string(hide_password=False)
            dsn = base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
            print("PostgreSQL")
            figures = asyncio.run(measure(url, lambda c, s: load_postgres(dsn, c, s)))
            ok &= report("PostgreSQL", figures)
        finally:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
