"""Write-behind counting of ordinary messages: one short transaction a second, not one a message.

What is buffered: message counts (per room/day and per hour), distinct senders (only their keyed
hash is written), ids of chatter that needed no action, and each room's last activity. A crash
loses at most the last flush interval of these counts; actions (bookings, tips ...) are never
buffered.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter as Bag
from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.directory import Group
from bot.messages import IncomingMessage, MessageKind
from storage import counters
from storage.counters import WHOLE_DAY, CountKey
from storage.models import ProcessedMessage, Room
from storage.upsert import insert_ignoring

log = logging.getLogger(__name__)


class Tally:
    def __init__(self, bot: str, sessions: async_sessionmaker[AsyncSession], clock: Clock, secret: bytes,
                 interval: float = 1.0, max_pending: int = 2000) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.secret = secret
        self.interval = interval
        self.max_pending = max_pending
        self._counts: Bag[CountKey] = Bag()
        self._senders: set[tuple[date, str, str]] = set()
        self._processed: dict[str, datetime] = {}
        self._active: dict[str, datetime] = {}
        self._task: asyncio.Task | None = None
        self._early: asyncio.Task | None = None
        self._flush_lock = asyncio.Lock()

    def message(self, msg: IncomingMessage, group: Group | None, *, command: bool = False) -> None:
        """Count a message: `messages` (or `messages_<kind>`), or `commands` for one to the bot."""
        now = self.clock.now()
        room = msg.room_id or ""
        category = (group.category or "") if group else ""
        metric = "commands" if command else "messages" if msg.kind == MessageKind.TEXT else f"messages_{msg.kind.value}"
        self._counts[CountKey(now.date(), WHOLE_DAY, room, category, metric)] += 1
        self._counts[CountKey(now.date(), now.hour, room, category, metric)] += 1
        if not command:  # 参与交流人次: people who spoke, not who gave the bot an instruction
            self._senders.add((now.date(), room, msg.sender_id))
        if msg.room_id:
            self._active[msg.room_id] = now
        if len(self._processed) + len(self._counts) > self.max_pending and self._early is None:
            # One early flush at a time; it is kept (and awaited on stop), never left to the GC.
            self._early = asyncio.get_running_loop().create_task(self.flush())
            self._early.add_done_callback(self._early_done)

    def _early_done(self, task: asyncio.Task) -> None:
        self._early = None
        if not task.cancelled() and task.exception() is not None:
            log.error("early counter flush failed", exc_info=task.exception())

    def processed(self, msg: IncomingMessage) -> None:
        self._processed[msg.id] = self.clock.now()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tally-flush")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._early is not None:
            await asyncio.gather(self._early, return_exceptions=True)
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except Exception:
                log.exception("tally flush failed; will retry")

    async def flush(self) -> None:
        async with self._flush_lock:
            counts, senders, processed, active = self._counts, self._senders, self._processed, self._active
            if not (counts or senders or processed or active):
                return
            self._counts, self._senders, self._processed, self._active = Bag(), set(), {}, {}
            try:
                async with self.sessions.begin() as session:
                    await counters.bump_many(session, self.bot, dict(counts))
                    await counters.add_active_senders(session, self.bot, {
                        (d, room, counters.sender_hash(self.secret, who)) for d, room, who in senders})
                    if processed:
                        await session.execute(insert_ignoring(session.bind.dialect.name, ProcessedMessage.__table__), [
                            {"bot": self.bot, "id": i, "received_at": at} for i, at in processed.items()])
                    for room_id, at in active.items():
                        await session.execute(update(Room).where(Room.bot == self.bot, Room.id == room_id)
                                              .values(last_active_at=at))
            except Exception:
                # Put it back so the next flush carries it; nothing counted is dropped on a hiccup.
                self._counts.update(counts)
                self._senders |= senders
                self._processed.update(processed)
                for room_id, at in active.items():
                    self._active.setdefault(room_id, at)
                raise
