"""Scheduler job stores compared (issue #12), run by hand:

    .venv/bin/python bench/bench_scheduler.py [N_JOBS]

- old: APScheduler 3's AsyncIOScheduler with its SQLAlchemyJobStore (synchronous, sqlite3 driver)
- ours: bot.scheduler.Scheduler, jobs in `scheduled_jobs` through the async session
- memory: APScheduler's MemoryJobStore (jobs re-derived at every start from the domain rows)

For each: the time to add N cron jobs, to load them at start, and the longest the event loop
stood still (a 10 ms ticker runs beside) while one job is added as another connection holds
SQLite's write lock for 1 s, as a resident's booking transaction does.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.clock import SHANGHAI, SystemClock
from bot.scheduler import Scheduler
from storage import db

LOCK_SECONDS = 1.0


def entry(kind, payload) -> None:
    """What the old store pickled a reference to."""


def trigger(i: int) -> CronTrigger:
    return CronTrigger(day_of_week="mon", hour=9, minute=i % 60, timezone=SHANGHAI)


class LoopWatch:
    """The longest gap between ticks of a 10 ms ticker: how long the loop stood still."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - 0.01)
            last = now

    async def __aenter__(self) -> LoopWatch:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        await asyncio.sleep(0.03)  # the ticker is running before the add starts
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()


def hold_write_lock(path: Path, started: threading.Event) -> None:
    conn = sqlite3.connect(path, timeout=30)
    conn.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(LOCK_SECONDS)
    conn.commit()
    conn.close()


async def locked_add(path: Path, add) -> tuple[float, float]:
    """(seconds the add took, longest loop stall) while another connection writes for 1 s."""
    started = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(path, started))
    holder.start()
    started.wait()
    async with LoopWatch() as watch:
        t0 = time.perf_counter()
        try:
            await add()
        except Exception as error:  # the old store gives up with "database is locked"
            print(f"    add failed: {type(error).__name__}: {str(error).splitlines()[0]}")
        took = time.perf_counter() - t0
        await asyncio.sleep(0.05)
    holder.join()
    return took, watch.worst


async def bench_aps(path: Path, n: int, store_factory) -> dict[str, float]:
    sched = AsyncIOScheduler(jobstores={"default": store_factory()}, timezone=SHANGHAI)
    sched.start(paused=True)
    t0 = time.perf_counter()
    for i in range(n):
        sched.add_job(entry, trigger(i), args=("push", {"schedule": i}), id=f"push:{i}", replace_existing=True)
    added = time.perf_counter() - t0
    sched.shutdown(wait=False)
    sched = AsyncIOScheduler(jobstores={"default": store_factory()}, timezone=SHANGHAI)
    t0 = time.perf_counter()
    sched.start(paused=True)
    loaded_jobs = len(sched.get_jobs())
    loaded = time.perf_counter() - t0

    async def one() -> None:
        sched.add_job(entry, trigger(1), args=("push", {"schedule": -1}), id="push:locked", replace_existing=True)

    took, stall = await locked_add(path, one)
    sched.shutdown(wait=False)
    return {"add_ms_per_job": added / n * 1000, "load_ms": loaded * 1000, "loaded": loaded_jobs,
            "locked_add_s": took, "loop_stall_s": stall}


async def bench_ours(path: Path, n: int) -> dict[str, float]:
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    await db.upgrade(engine)
    sessions = db.session_factory(engine)
    sched = Scheduler(SystemClock(), sessions, "bench")
    await sched.load()
    await sched.start()
    t0 = time.perf_counter()
    for i in range(n):
        await sched.add(f"push:{i}", "push", {"schedule": i}, trigger(i))
    added = time.perf_counter() - t0
    await sched.stop()
    sched = Scheduler(SystemClock(), sessions, "bench")
    t0 = time.perf_counter()
    await sched.load()
    loaded = time.perf_counter() - t0
    await sched.start()
    loaded_jobs = len(sched.job_ids())

    async def one() -> None:
        await sched.add("push:locked", "push", {"schedule": -1}, trigger(1))

    took, stall = await locked_add(path, one)
    await sched.stop()
    await engine.dispose()
    return {"add_ms_per_job": added / n * 1000, "load_ms": loaded * 1000, "loaded": loaded_jobs,
            "locked_add_s": took, "loop_stall_s": stall}


async def main(n: int) -> None:
    results: dict[str, list[dict[str, float]]] = {"old (SQLAlchemyJobStore)": [], "ours": [], "memory": []}
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "old.db"
            sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").close()
            results["old (SQLAlchemyJobStore)"].append(await bench_aps(
                path, n, lambda: SQLAlchemyJobStore(url=f"sqlite:///{path}", engine_options={"connect_args": {"timeout": 5}})))
            path = Path(tmp) / "ours.db"
            results["ours"].append(await bench_ours(path, n))
            path = Path(tmp) / "memory.db"
            sqlite3.connect(path).close()
            results["memory"].append(await bench_aps(path, n, MemoryJobStore))
    print(f"{n} cron jobs, median of 3 rounds; write lock held {LOCK_SECONDS:.0f} s by another connection")
    print(f"{'store':28} {'add/job':>9} {'load':>9} {'loaded':>7} {'add under lock':>15} {'loop stall':>11}")
    for name, rounds in results.items():
        med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        print(f"{name:28} {med['add_ms_per_job']:7.2f}ms {med['load_ms']:7.1f}ms {int(med['loaded']):7d} "
              f"{med['locked_add_s']:13.3f}s {med['loop_stall_s']:10.3f}s")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 189))
