"""How long the district statistics take for 189 communities and one year on PostgreSQL.

189 bots (the article's 189 communities), five groups each across the five kinds, one year of
counters per group and day (hourly message rows too, as the tally writes them), private-chat
bookings and tips, tip rows with their unit, and the rooms. Then, the way `jingmin district stats`
and the Monday district report gather them (handlers.stats.district.gather):

  - last week and the week before, and the totals since the start (the weekly report),
  - one month, and the whole year (with the year before next to it),
  - the whole year without the rolled-up months (every counter row read), for comparison.

Target: under 1 s each on PostgreSQL. Measured 2026-12-02 on the shared 2-core machine (load 5,
PostgreSQL on the same machine), 1.09 M counter rows: weekly report median 266 ms, one month 507 ms,
one year 546 ms (the once-only first roll-up of 2,268 bot-months 4 s). The rows are generous: about
2.7 M group messages a year, where the article's district counted 1.2万 in all.

    .venv/bin/python bench/bench_district_stats.py postgresql+asyncpg://postgres@127.0.0.1:5432/test
      (creates and drops a database of its own on that server)
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.district import District  # noqa: E402
from handlers.stats import district as districts  # noqa: E402
from handlers.stats.report import Period, last_week  # noqa: E402
from storage import db, stats  # noqa: E402
from sqlalchemy import text  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
BOTS = [f"c{i:03d}" for i in range(189)]
GROUPS = [("resident", 0.9), ("resident", 0.7), ("building", 0.6), ("work", 0.5), ("merchant", 0.3)]
SCHOOL_EVERY = 4  # every fourth community also has a school group
TODAY = date(2026, 12, 14)  # a Monday
DAYS = 365
TOPICS = ["residence-permit", "id-card", "no-criminal-record", "office-hours", "hukou", "passport"]
UNITS = ["", "", "禁毒", "经侦", "食药"]
RUNS = 10


def generate(rng: random.Random) -> dict[str, list[tuple]]:
    counters, rooms, tips = [], [], []
    start = TODAY - timedelta(days=DAYS)
    created = datetime(2025, 12, 1, tzinfo=TZ)
    for b, bot in enumerate(BOTS):
        groups = list(GROUPS) + ([("school", 0.4)] if b % SCHOOL_EVERY == 0 else [])
        for g, (category, busy) in enumerate(groups):
            room = f"{bot}-room-{g}"
            rooms.append((bot, room, f"{bot}{category}{g}", category, rng.randint(50, 480), created))
            for d in range(DAYS):
                if rng.random() > busy:
                    continue
                day = start + timedelta(days=d)
                total = 0
                for hour in rng.sample(range(7, 22), rng.randint(1, 5)):
                    n = rng.randint(1, 8)
                    counters.append((bot, day, hour, room, "messages", "", category, n))
                    total += n
                counters.append((bot, day, -1, room, "messages", "", category, total))
                if rng.random() < 0.2:
                    counters.append((bot, day, -1, room, "messages_image", "", category, rng.randint(1, 4)))
                if rng.random() < 0.25:
                    counters.append((bot, day, -1, room, "consultations", "answered", category, rng.randint(1, 3)))
                    counters.append((bot, day, -1, room, "consultation_topics", rng.choice(TOPICS), category, 1))
                if rng.random() < 0.08:
                    counters.append((bot, day, -1, room, "consultations", "forwarded", category, 1))
                if rng.random() < 0.05:
                    counters.append((bot, day, -1, room, "suggestions", "", category, 1))
                if day.weekday() == 0:
                    counters.append((bot, day, -1, room, "pushes", "antifraud", category, 1))
        for d in range(DAYS):
            day = start + timedelta(days=d)
            if rng.random() < 0.3:
                counters.append((bot, day, -1, "", "appointments_booked", "居住证", "", rng.randint(1, 3)))
            if rng.random() < 0.04:
                unit = rng.choice(UNITS)
                counters.append((bot, day, -1, "", "tips", "毒品" if unit == "禁毒" else "其他", "", 1))
                at = datetime(day.year, day.month, day.day, rng.randint(8, 21), tzinfo=TZ)
                tips.append((bot, "毒品" if unit == "禁毒" else "其他", unit, "gAAAA-benchmark", "", True,
                             "gAAAA-reporter", uuid.uuid4().hex, "open", at))
    return {"counters": counters, "rooms": rooms, "tips": tips}


COLUMNS = {
    "counters": ["bot", "day", "hour", "room_id", "metric", "key", "category", "value"],
    "rooms": ["bot", "id", "name", "category", "member_count", "created_at"],
    "tips": ["bot", "category", "unit", "body_enc", "summary", "confidential", "reporter_enc", "receipt_hash",
             "status", "created_at"],
}


async def connect(url):
    import asyncpg

    return await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                 database=url.database)


async def load(url, tables: dict[str, list[tuple]]) -> None:
    conn = await connect(url)
    try:
        for table, rows in tables.items():
            await conn.copy_records_to_table(table, records=rows, columns=COLUMNS[table])
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


DISTRICT = District(name="甘井子分局", communities=[{"bot": b, "name": f"社区{b[1:]}"} for b in BOTS])


async def timed(sessions, period: Period, runs: int = RUNS, **options) -> dict[str, float]:
    timings = []
    for _ in range(runs):
        t = time.perf_counter()
        async with sessions.begin() as session:
            if options.get("rolled", True):
                data = await districts.gather(session, DISTRICT, period, TZ, today=TODAY)
            else:  # the same numbers straight from the counters (no rolled months)
                data = await stats.totals_by_bot(session, BOTS, period.start, period.end)
            if options.get("render", True):
                districts.render(data, weekly=period.days == 7)
                districts.to_csv(data)
        timings.append((time.perf_counter() - t) * 1000)
    return {"median": statistics.median(timings), "max": max(timings)}


async def measure(url: str) -> bool:
    from sqlalchemy.engine import make_url

    engine = db.create_engine(url)
    await db.upgrade(engine)
    await engine.dispose()
    t = time.perf_counter()
    tables = generate(random.Random(189))
    await load(make_url(url), tables)
    print(f"loaded {len(tables['counters']):,} counter rows, {len(tables['rooms']):,} rooms, "
          f"{len(tables['tips']):,} tips in {time.perf_counter() - t:.1f} s")
    engine = db.create_engine(url)
    sessions = db.session_factory(engine)
    ok = True
    try:
        t = time.perf_counter()
        async with sessions.begin() as session:
            rolled = await stats.roll_up_months_of(session, BOTS, TODAY)
        print(f"first report rolls up {rolled:,} bot-months: {(time.perf_counter() - t) * 1000:.0f} ms (once)")
        # autovacuum analyses the new month rows soon after; the bench does not wait for it
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE stats_month_totals"))
        cases = [
            ("weekly report (last week + week before)", last_week(TODAY), {}),
            ("one month (2026-11 + 2026-10)", Period(date(2026, 11, 1), date(2026, 11, 30)), {}),
            ("one year (+ the year before)", Period(TODAY - timedelta(days=DAYS), TODAY - timedelta(days=1)), {}),
            ("one year, counters only (no roll-ups; comparison)",
             Period(TODAY - timedelta(days=DAYS), TODAY - timedelta(days=1)), {"rolled": False, "render": False}),
        ]
        for name, period, options in cases:
            figures = await timed(sessions, period, runs=3 if not options.get("rolled", True) else RUNS, **options)
            target = options.get("rolled", True)
            good = figures["median"] < 1000
            ok &= good or not target
            print(f"  {name}: median {figures['median']:.0f} ms, max {figures['max']:.0f} ms"
                  + (("  OK" if good else "  TOO SLOW") if target else ""))
    finally:
        await engine.dispose()
    return ok


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    from sqlalchemy.engine import make_url

    base = make_url(sys.argv[1])
    name = f"jingmin_bench_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        conn = await connect(base)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        ok = asyncio.run(measure(base.set(database=name).render_as_string(hide_password=False)))
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
