"""Write-behind counting of ordinary messages: one short transaction a second, not one a message.

What is buffered: message counts (per room/day and per hour), distinct senders (only their keyed
hash is written), ids of chatter that needed no action, and each room's last activity. A crash
loses at most the last flush interval of these counts; actions (bookings, tips ...) are never
buffered.

A flush costs a bounded number of statements whatever the number of groups (one upsert of the
counters, one insert of the senders, one of the ids, one update of the rooms; on PostgreSQL the
first three go in as one statement of arrays, storage.later), and only one flush is ever pending.
A batch the database refuses for what is in it (one bad id) is split and retried, so that one
item is dropped and logged and the rest are written; a batch it refuses because it is down or
locked is kept for the next flush, within `max_buffer` items.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import Counter as Bag
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.directory import Group
from bot.masking import mask_text
from bot.messages import IncomingMessage, MessageKind
from storage import counters
from storage.db import connection_lost
from storage.counters import WHOLE_DAY, CountKey
from storage.sqlite_direct import DirectWriter

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """What one flush writes. Items can be taken apart and put together again (split-and-retry)."""

    counts: Bag[CountKey] = field(default_factory=Bag)
    senders: set[tuple[date, str, str]] = field(default_factory=set)
    processed: dict[str, datetime] = field(default_factory=dict)
    active: dict[str, datetime] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.counts) + len(self.senders) + len(self.processed) + len(self.active)

    def items(self) -> list[tuple]:
        return ([("count", k, n) for k, n in self.counts.items()] + [("sender", s, None) for s in self.senders]
                + [("processed", i, at) for i, at in self.processed.items()]
                + [("active", r, at) for r, at in self.active.items()])

    @classmethod
    def of(cls, items: list[tuple]) -> Batch:
        batch = cls()
        for kind, key, value in items:
            batch.add(kind, key, value)
        return batch

    def add(self, kind: str, key, value) -> None:
        if kind == "count":
            self.counts[key] += value
        elif kind == "sender":
            self.senders.add(key)
        elif kind == "processed":
            self.processed.setdefault(key, value)
        elif key not in self.active or self.active[key] < value:
            self.active[key] = value

    def halves(self) -> list[Batch]:
        items = self.items()
        return [Batch.of(items[: len(items) // 2]), Batch.of(items[len(items) // 2:])]


def _direct_writer(sessions: async_sessionmaker[AsyncSession]) -> DirectWriter | None:
    """On a SQLite file, flush in one hop on a connection of the tally's own (storage.sqlite_direct)."""
    engine = sessions.kw.get("bind")
    url = getattr(engine, "url", None)
    if url is None or url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return DirectWriter(url.database)


def _transient(exc: BaseException) -> bool:
    """The database is down, locked or gone: keep the batch. Anything else is about its content."""
    if isinstance(exc, (OperationalError, InterfaceError, OSError, asyncio.TimeoutError, sqlite3.OperationalError)):
        return True
    return connection_lost(exc)


class Tally:
    def __init__(self, bot: str, sessions: async_sessionmaker[AsyncSession], clock: Clock, secret: bytes,
                 interval: float = 1.0, max_pending: int = 2000, max_buffer: int = 200_000) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.secret = secret
        self.interval = interval
        self.max_pending = max_pending
        self.max_buffer = max_buffer
        self._batch = Batch()
        self._task: asyncio.Task | None = None
        self._early: asyncio.Task | None = None
        self._flush_lock = asyncio.Lock()
        # room id -> when someone last wrote in it since start-up (the database has it too, a
        # flush later; before start-up the directory has it from there)
        self.last_active: dict[str, datetime] = {}
        self.dropped = 0  # items given up on (bad content, or the buffer full while the database was away)
        self._direct = _direct_writer(sessions)

    def message(self, msg: IncomingMessage, group: Group | None, *, command: bool = False) -> None:
        """Count a message: `messages` (or `messages_<kind>`), or `commands` for one to the bot."""
        now = self.clock.now()
        room = msg.room_id or ""
        category = (group.category or "") if group else ""
        metric = "commands" if command else "messages" if msg.kind == MessageKind.TEXT else f"messages_{msg.kind.value}"
        batch = self._batch
        batch.counts[CountKey(now.date(), WHOLE_DAY, room, category, metric)] += 1
        batch.counts[CountKey(now.date(), now.hour, room, category, metric)] += 1
        if not command:  # 参与交流人次: people who spoke, not who gave the bot an instruction
            batch.senders.add((now.date(), room, msg.sender_id))
        if msg.room_id:
            batch.active[msg.room_id] = now
            self.last_active[msg.room_id] = now
        if len(batch.processed) + len(batch.counts) > self.max_pending:
            self._flush_soon()

    def _flush_soon(self) -> None:
        """At most one flush pending: while one runs, messages just add to the next batch."""
        if self._early is None and not self._flush_lock.locked():
            self._early = asyncio.get_running_loop().create_task(self.flush())
            self._early.add_done_callback(self._early_done)

    def _early_done(self, task: asyncio.Task) -> None:
        self._early = None
        if not task.cancelled() and task.exception() is not None:
            log.error("early counter flush failed", exc_info=task.exception())

    def processed(self, msg: IncomingMessage) -> None:
        self._batch.processed[msg.id] = self.clock.now()

    @property
    def buffered(self) -> int:
        return len(self._batch)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tally-flush")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._early is not None:
            await asyncio.gather(self._early, return_exceptions=True)
        await self.flush()
        if self._direct is not None:
            self._direct.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except Exception:
                log.exception("tally flush failed; will retry")

    async def flush(self) -> None:
        async with self._flush_lock:
            batch, self._batch = self._batch, Batch()
            if not batch:
                return
            parts = [batch]
            while parts:
                part = parts.pop()
                try:
                    await self._write(part)
                except Exception as exc:
                    if _transient(exc):
                        for p in (part, *parts):  # nothing counted is dropped on a hiccup
                            self._put_back(p)
                        raise
                    if len(part) == 1:
                        self._drop(part, exc)
                    else:
                        parts.extend(part.halves())

    async def _write(self, batch: Batch) -> None:
        if self._direct is not None:
            senders = {(d, room, counters.sender_hash(self.secret, who)) for d, room, who in batch.senders}
            await self._direct.write(self.bot, dict(batch.counts), senders, batch.processed, batch.active)
            return
        async with self.sessions.begin() as session:
            await counters.bump_many(session, self.bot, dict(batch.counts))
            await counters.add_active_senders(session, self.bot, {
                (d, room, counters.sender_hash(self.secret, who)) for d, room, who in batch.senders})
            await counters.mark_processed(session, self.bot, batch.processed)
            await counters.touch_rooms(session, self.bot, batch.active)

    def _drop(self, batch: Batch, exc: BaseException) -> None:
        [(kind, key, _)] = batch.items()
        self.dropped += 1
        # The error text only: a driver's message can carry the statement's parameters.
        log.error("a count could not be written and was dropped",
                  extra={"item": kind, "key": mask_text(ascii(key))[:200], "error": type(exc).__name__})

    def _put_back(self, batch: Batch) -> None:
        for kind, key, value in batch.items():
            self._batch.add(kind, key, value)
        over = len(self._batch) - self.max_buffer
        if over > 0:
            # The database has been away long: forget redelivery ids first (RecentIds still
            # has them in memory), then the oldest of everything else.
            items = self._batch.items()
            items.sort(key=lambda item: item[0] != "processed")
            self._batch = Batch.of(items[over:])
            self.dropped += over
            log.warning("counter buffer full while the database is away; oldest items dropped",
                        extra={"dropped": over, "kept": len(self._batch)})
