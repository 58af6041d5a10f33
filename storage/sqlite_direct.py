"""The tally's flush on SQLite in one hop to a worker thread, on a connection of its own.

Through aiosqlite every statement of a transaction is a round trip to the connection's thread and
back through the event loop, and SQLite's write lock is held across all of them: a handler that
writes meanwhile sleeps in SQLite's busy handler. Here BEGIN IMMEDIATE, the four statements and
COMMIT run in one call in a worker thread, so the lock is held only for the C work (about a
millisecond for a second's chatter), never while the event loop runs handlers.

The SQL is written out for the four fixed statements; values go through the SQLAlchemy column
types' own bind processors, so what is stored is what the ORM would have stored.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import date, datetime

from sqlalchemy.dialects import sqlite as sqlite_dialect

from storage.models import ActiveSender, Counter, ProcessedMessage, Room

_DIALECT = sqlite_dialect.dialect()

COUNTERS = ("INSERT INTO counters (bot, day, hour, room_id, category, metric, key, value) VALUES (?,?,?,?,?,?,?,?) "
            "ON CONFLICT (bot, day, hour, room_id, metric, key) DO UPDATE SET "
            "value = counters.value + excluded.value, category = excluded.category")
SENDERS = "INSERT INTO active_senders (bot, day, room_id, sender_hash) VALUES (?,?,?,?) ON CONFLICT DO NOTHING"
PROCESSED = "INSERT INTO processed_messages (bot, id, received_at) VALUES (?,?,?) ON CONFLICT DO NOTHING"
ROOMS = "UPDATE rooms SET last_active_at = ? WHERE bot = ? AND id = ?"


def _processor(column):
    return column.type._cached_bind_processor(_DIALECT) or (lambda v: v)


_day = _processor(Counter.__table__.c.day)
_sender_day = _processor(ActiveSender.__table__.c.day)
_received = _processor(ProcessedMessage.__table__.c.received_at)
_active = _processor(Room.__table__.c.last_active_at)


class DirectWriter:
    """One sqlite3 connection, used by one flush at a time (the tally's lock), in a worker thread."""

    def __init__(self, path: str, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout
        self._conn: sqlite3.Connection | None = None
        self._guard = threading.Lock()
        self.statements = 0  # executed so far (BEGIN and COMMIT included), for tests and curiosity

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        return self._conn

    async def write(self, bot: str, counts: dict, senders: set[tuple[date, str, str]],
                    processed: dict[str, datetime], active: dict[str, datetime]) -> None:
        rows = (
            [(bot, _day(k.day), k.hour, k.room_id, k.category, k.metric, k.key, n) for k, n in sorted(
                counts.items(), key=lambda kv: (kv[0].day, kv[0].hour, kv[0].room_id, kv[0].metric, kv[0].key))],
            [(bot, _sender_day(d), room, h) for d, room, h in sorted(senders)],
            [(bot, i, _received(at)) for i, at in processed.items()],
            [(_active(at), bot, room) for room, at in sorted(active.items())],
        )
        await asyncio.to_thread(self._write, rows)

    def _write(self, rows) -> None:
        with self._guard:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, values in zip((COUNTERS, SENDERS, PROCESSED, ROOMS), rows):
                    if values:
                        conn.executemany(sql, values)
                        self.statements += 1
                conn.execute("COMMIT")
                self.statements += 2
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._guard:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
