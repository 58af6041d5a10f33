"""One running process per bot name and database.

Two processes with one bot name knock each other off the gateway and break the outbox's pacing,
so the second one must not start. The database decides, as it is what both share:

- PostgreSQL: a session-level advisory lock on a key made from the bot name, held by one
  connection of its own for the life of the process (the server frees it when the process dies,
  kill -9 included). Its holder's application_name says who holds it.
- SQLite: an exclusive flock on a file beside the database file (the kernel frees it when the
  process dies); the file holds a line about its holder.

A second start fails with `AlreadyRunning`, whose message names the running one.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


log = logging.getLogger(__name__)
KEEP_EVERY = 30.0  # seconds between looks at the lock's connection


class AlreadyRunning(RuntimeError):
    pass


def holder_line(bot: str, note: str = "") -> str:
    """Who this process is, as the second one will be told."""
    at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    extra = f", {note}" if note else ""
    return f"pid {os.getpid()} on {socket.gethostname()}, started {at}{extra}"


def lock_key(bot: str) -> int:
    """A signed 64-bit advisory lock key for this bot name (stable across processes)."""
    return int.from_bytes(hashlib.blake2b(f"jingmin:{bot}".encode(), digest_size=8).digest(), "big", signed=True)


class InstanceLock:
    def __init__(self, engine: AsyncEngine, bot: str, note: str = "") -> None:
        self.engine = engine
        self.bot = bot
        self.note = note
        self._conn: AsyncConnection | None = None
        self._file = None

    async def acquire(self) -> None:
        url = make_url(str(self.engine.url))
        if url.get_backend_name() == "postgresql":
            await self._acquire_pg()
        elif url.database and url.database != ":memory:":
            self._acquire_file(Path(url.database))

    async def release(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.close()  # closing the session frees its advisory lock
            finally:
                self._conn = None
        if self._file is not None:
            self._file.close()
            self._file = None

    async def keep(self, every: float | None = None) -> None:
        """PostgreSQL only: a lock whose connection was dropped (pg_terminate_backend, a server
        restart) is gone; take it again on a new connection, or say loudly that another has it."""
        while self._conn is not None:
            await asyncio.sleep(every or KEEP_EVERY)
            try:
                await self._conn.execute(text("SELECT 1"))
                continue
            except Exception:
                pass
            old, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                await old.close()
            try:
                await self._acquire_pg()
                log.warning("instance lock taken again after its connection was lost", extra={"bot": self.bot})
            except AlreadyRunning as error:
                log.error("instance lock lost to another process", extra={"bot": self.bot, "error": str(error)})
                return
            except Exception as error:  # the server is still away: try again at the next round
                log.warning("instance lock: database unreachable", extra={"error": type(error).__name__})
                self._conn = old if self._conn is None else self._conn

    async def _acquire_pg(self) -> None:
        conn = await self.engine.connect()
        try:
            await conn.execute(text("SELECT set_config('application_name', :name, false)"),
                               {"name": f"jingmin {self.bot}: {holder_line(self.bot, self.note)}"[:63]})
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(self.bot)})).scalar()
            await conn.commit()
            if not got:
                key = lock_key(self.bot) & 0xFFFFFFFFFFFFFFFF  # pg_locks shows it as two unsigned halves
                holder = (await conn.execute(text(
                    "SELECT a.application_name, a.client_addr, a.pid FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.classid::bigint = :hi AND l.objid::bigint = :lo "
                    # Advisory locks are per database: the same bot name on another database of
                    # the server holds a lock of the same key, and is not the one in the way.
                    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
                    {"hi": key >> 32, "lo": key & 0xFFFFFFFF})).first()
                who = f"{holder[0] or '?'} (database session {holder[2]})" if holder else "another process"
                raise AlreadyRunning(f"bot '{self.bot}' is already running on this database: {who}")
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    def _acquire_file(self, database: Path) -> None:
        path = database.with_name(f"{database.name}.{self.bot}.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            who = handle.read().strip() or "another process"
            handle.close()
            raise AlreadyRunning(f"bot '{self.bot}' is already running on {database}: {who}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(holder_line(self.bot, self.note) + "\n")
        handle.flush()
        self._file = handle
