"""SQLite for SQLAlchemy's async engine without a thread hop per statement.

aiosqlite runs each statement on the connection's own thread and hands the result back through
the event loop: about 200 µs a statement where sqlite3 itself takes 50, and a reply's transaction
is five or six statements (bench/bench_pipeline.py). Here the same sqlite3 calls run in the
calling greenlet, behind the interface SQLAlchemy's aiosqlite dialect expects, so the dialect,
its types and its error handling stay as they are.

Inline calls block the event loop while SQLite works, so they must never wait in SQLite's busy
handler: a connection of this process holding the write lock across an await (another bot of a
district on the same file, in one process) could then only release it when the loop ran again.
The connections here have no busy handler; a statement that meets the lock waits for it here,
asynchronously (1 ms, growing to 20 ms, up to `timeout`), and the loop goes on meanwhile. The
engine keeps one connection per bot (storage.db.create_engine): a second session of the same
bot waits at the pool instead. The tally's flush (storage.sqlite_direct) writes on a connection
of its own in a worker thread; it holds the lock only for its C work.

Every transaction begins with BEGIN IMMEDIATE (`begin_immediately`): a deferred one that read
before the tally committed could not write at all afterwards (SQLITE_BUSY_SNAPSHOT in WAL mode:
the resident would be told something went wrong). Readers are not held up by it in WAL mode.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any, Callable, TypeVar

T = TypeVar("T")


async def _when_unlocked(call: Callable[[], T], timeout: float) -> T:
    """`call()`, tried again while another connection holds SQLite's lock (SQLITE_BUSY)."""
    try:
        return call()
    except sqlite3.OperationalError as error:
        if not _busy(error):
            raise
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        await asyncio.sleep(pause)
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not _busy(error) or time.monotonic() >= deadline:
                raise
        pause = min(pause * 2, 0.02)


def _busy(error: sqlite3.OperationalError) -> bool:
    """Plain SQLITE_BUSY, which waiting cures; not SQLITE_BUSY_SNAPSHOT (a transaction that read
    before another committed), which no wait does (BEGIN IMMEDIATE, below, prevents it)."""
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY


class InlineCursor:
    """aiosqlite's Cursor, as the dialect uses it: awaitables that are already done."""

    __slots__ = ("_cursor", "_timeout")

    def __init__(self, cursor: sqlite3.Cursor, timeout: float) -> None:
        self._cursor = cursor
        self._timeout = timeout

    async def __aenter__(self) -> "InlineCursor":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self):
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> "InlineCursor":
        await _when_unlocked(lambda: self._cursor.execute(sql, parameters), self._timeout)
        return self

    async def executemany(self, sql: str, seq_of_parameters: Any) -> "InlineCursor":
        rows = list(seq_of_parameters)  # a retry needs them again
        await _when_unlocked(lambda: self._cursor.executemany(sql, rows), self._timeout)
        return self

    async def fetchone(self):
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None):
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self):
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _Immediate:
    """aiosqlite's request queue, which the dialect uses to set the isolation level: run now."""

    @staticmethod
    def put_nowait(item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except BaseException as error:  # handed to the awaiting dialect, as aiosqlite does
            future.set_exception(error)


class InlineConnection:
    """aiosqlite's Connection, as SQLAlchemy's aiosqlite dialect uses it."""

    def __init__(self, conn: sqlite3.Connection, timeout: float) -> None:
        self._connection: sqlite3.Connection | None = conn  # None once closed (the dialect checks)
        self._conn = conn
        self._timeout = timeout
        self._tx = _Immediate()

    @property
    def isolation_level(self):
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor(), self._timeout)

    async def commit(self) -> None:
        await _when_unlocked(self._conn.commit, self._timeout)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def creator(path: str, timeout: float = 30.0) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine: a connection to the SQLite file `path`, waiting
    up to `timeout` seconds for another connection's lock."""
    async def connect() -> InlineConnection:
        # timeout 0: no busy handler (see above). check_same_thread off: the pool may close a
        # connection from the garbage collector's thread.
        # isolation_level None: sqlite3 opens no transaction of its own; begin_immediately does.
        conn = sqlite3.connect(path, timeout=0, check_same_thread=False, isolation_level=None)
        return InlineConnection(conn, timeout)
    return connect


def begin_immediately(connection) -> None:
    """The engine's "begin" event: take the write lock when the transaction starts."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")
