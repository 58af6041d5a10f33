"""SQLite statements run inline (storage.sqlite_inline): a lock held elsewhere is waited for without
stopping the event loop, and what is written is what the aiosqlite driver wrote."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage import db


async def test_a_transaction_holding_the_lock_across_an_await_does_not_stall_another_engine(tmp_path):
    """Two bots of a district on one SQLite file in one process: the first holds the write lock
    while it awaits; the second's write waits for it, and the loop runs the first meanwhile (in
    SQLite's own busy handler it would block the loop, and neither could finish)."""
    url = f"sqlite+aiosqlite:///{tmp_path}/shared.db"
    first, second = db.create_engine(url), db.create_engine(url)
    try:
        async with first.begin() as conn:
            await conn.execute(text("CREATE TABLE notes (who TEXT)"))
        holding = asyncio.Event()
        release = asyncio.Event()

        async def hold_lock() -> None:
            async with first.begin() as conn:
                await conn.execute(text("INSERT INTO notes VALUES ('first')"))
                holding.set()
                await release.wait()  # the lock is held across this await

        async def write_meanwhile() -> None:
            await holding.wait()
            async with second.begin() as conn:
                await conn.execute(text("INSERT INTO notes VALUES ('second')"))

        loop = asyncio.get_running_loop()
        gaps = []

        async def tick() -> None:  # how long the loop ever went without running it
            last = loop.time()
            while True:
                await asyncio.sleep(0.01)
                gaps.append(loop.time() - last)
                last = loop.time()

        ticker = asyncio.create_task(tick())
        holder = asyncio.create_task(hold_lock())
        writer = asyncio.create_task(write_meanwhile())
        await holding.wait()
        await asyncio.sleep(0.2)
        assert not writer.done()  # waiting for the lock ...
        release.set()  # ... and the loop still runs: the holder can finish
        await asyncio.wait_for(asyncio.gather(holder, writer), timeout=5)
        ticker.cancel()
        assert max(gaps) < 0.15
        async with second.connect() as conn:
            rows = (await conn.execute(text("SELECT who FROM notes ORDER BY rowid"))).scalars().all()
        assert rows == ["first", "second"]
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_lock_never_released_fails_with_the_transient_error_after_the_timeout(tmp_path):
    path = tmp_path / "locked.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE notes (who TEXT)")
    other.execute("BEGIN IMMEDIATE")  # another process, say, holds the write lock
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}", lock_timeout=0.3)
    try:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        with pytest.raises(OperationalError) as err:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO notes VALUES ('x')"))
        ticker.cancel()
        assert db.is_transient(err.value)
        assert ticks >= 5  # the loop ran while the statement waited
    finally:
        other.execute("ROLLBACK")
        other.close()
        await engine.dispose()


async def test_a_transaction_that_read_first_can_still_write_after_another_connection_committed(tmp_path):
    """A handler reads, the tally's flush commits on its own connection, the handler writes: in a
    deferred transaction SQLite refuses that write (SQLITE_BUSY_SNAPSHOT) and the resident would
    hear that something went wrong."""
    path = tmp_path / "snap.db"
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE notes (who TEXT)"))
        tally = sqlite3.connect(path, isolation_level=None, timeout=5, check_same_thread=False)

        def flush() -> None:
            tally.execute("BEGIN IMMEDIATE")
            tally.execute("INSERT INTO notes VALUES ('tally')")
            tally.execute("COMMIT")

        async with engine.begin() as conn:
            await conn.execute(text("SELECT count(*) FROM notes"))
            flushing = asyncio.create_task(asyncio.to_thread(flush))  # waits for the handler's lock
            await asyncio.sleep(0.05)
            await conn.execute(text("INSERT INTO notes VALUES ('handler')"))
        await flushing
        tally.close()
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT who FROM notes ORDER BY rowid"))).scalars().all()
        assert rows == ["handler", "tally"]
    finally:
        await engine.dispose()
