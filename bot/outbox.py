"""The persistent outbox and its one sender task.

Every outgoing message is a row written in the same transaction as the change that caused it;
one sender drains the rows at a human pace, because WeChat bans accounts that send fast or
mass-send identical text. Emergency replies take a priority lane past the pace and the caps.

Order: emergencies, then replies to a person who just wrote, then officer notices, then bulk
pushes and reports. The pace applies to all but emergencies, so a reply waits behind a 189-group
push for at most one gap. Identical answers due in one group within `merge_window_seconds` go
as one message that @-mentions every asker (twenty copies of one text in a minute is what WeChat
penalises); when a group is at its hourly cap, an answer to someone who is the bot's friend goes
to them privately instead of waiting for the next hour.

Delivery: a row is claimed ("sending") before the transport call and marked "sent" after. A row
found "sending" at start-up may or may not have gone out; it is marked "uncertain" and logged,
never resent, so a crash can not make the bot post the same thing twice. The claim locks the row
(`FOR UPDATE SKIP LOCKED` on PostgreSQL) and changes it only while it is still pending, so two
claimers of one row can never both send it.

A district's bots share one database: a bot may write a row for another bot (a tip routed to a
unit that bot reaches, a reply to a reporter of that bot). That bot's sender, if it runs in this
process, is woken once the row has committed; in another process it finds the row at its next
look, at most `poll_seconds` later.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Awaitable, Callable

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import OutboxSettings, QuietHours
from bot.messages import Outgoing
from bot.quiet import quiet_end
from bot.transport import Transport, TransportError
from storage.db import after_commit
from storage.later import insert_later
from storage.models import OutboxMessage
from storage.upsert import insert_ignoring, plain_insert

log = logging.getLogger(__name__)

EMERGENCY = 10  # priority at or above this skips pacing and the per-room cap
REPLY = 5  # an answer to someone who just wrote
HIGH = REPLY
NOTICE = 3  # officer notices, alerts to staff, answers an officer sends later
BULK = 0  # pushes to many groups, reports
NORMAL = BULK

# The priority a row gets from its source when the caller names none. A source not listed is
# taken as a reply (ctx.reply's, a confidential flow's own reply source, a welcome ...).
SOURCE_PRIORITY = {
    "push": BULK, "stats": BULK,
    "notice": NOTICE, "tip-notice": NOTICE, "answer": NOTICE, "failure-report": NOTICE,
    "outage-note": NOTICE, "push-summary": NOTICE,
}
MERGED = "merged"  # status of a row that went out inside another (its last_error says which)
TEXTS = {
    "capped_private": "群里消息较多，私聊回复您：\n{body}",
}


def split_text(text: str, limit: int) -> list[str]:
    """Cut long text into pieces of at most `limit` characters, preferring line breaks."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", limit // 2, limit)
        if cut == -1:
            cut = max(text.rfind(p, limit // 2, limit) for p in "。！？；，")
        cut = limit if cut == -1 else cut + 1
        pieces.append(text[:cut].rstrip("\n"))
        text = text[cut:].lstrip("\n")
    if text or not pieces:
        pieces.append(text)
    return pieces


# The senders running in this process, by (database, bot): a row written for another bot of the
# district wakes that bot's sender at once when it runs here (else its poll finds the row).
_RUNNING: dict[tuple[str, str], "Outbox"] = {}


def _database_of(sessions: async_sessionmaker[AsyncSession]) -> str:
    bind = sessions.kw.get("bind")
    return str(getattr(bind, "url", "")) if bind is not None else ""


def wake_bot(database: str, bot: str) -> None:
    """Wake `bot`'s sender if it runs in this process (rows for it have just committed)."""
    outbox = _RUNNING.get((database, bot))
    if outbox is not None:
        outbox.wake()


@dataclass
class OutboxStats:
    pending: int
    failed: int
    uncertain: int


class Outbox:
    def __init__(self, *, bot: str, sessions: async_sessionmaker[AsyncSession], transport: Transport,
                 clock: Clock, settings: OutboxSettings, quiet: QuietHours,
                 rng: random.Random | None = None, confidential_sources: set[str] | frozenset[str] = frozenset()) -> None:
        self.bot = bot
        self.sessions = sessions
        self.transport = transport
        self.clock = clock
        self.settings = settings
        self.quiet = quiet
        self.rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._paused = False
        self._next_normal_at: datetime | None = None
        # While the pace holds normal rows back only an emergency row can go, so a wake-up
        # needs a look at the table only if one may have been added (or may be retrying).
        self._urgent_maybe = True
        self._urgent_retrying: set[int] = set()
        self._room_sent: dict[str, deque[datetime]] = defaultdict(deque)
        self.idle = asyncio.Event()  # set while nothing is due now (the simulator waits on it)
        self.on_failed: Callable[[OutboxMessage], Awaitable[None]] | None = None
        # Whether a contact is the bot's friend (can be written to privately); the App sets it.
        self.is_friend: Callable[[str], bool] | None = None
        self._recent_answers: dict[tuple[str, str], datetime] = {}  # (room, text) -> last sent
        # Confidential sources (tips): once a row of theirs is sent or given up on, its contact_id
        # and text are cleared, so the table tells neither who was written to nor what was said;
        # the file an image/file row sent (decrypted for the send) is deleted then too.
        self.confidential_sources = frozenset(confidential_sources)
        self._database = _database_of(sessions)

    # ---- writing -------------------------------------------------------------------------

    async def enqueue(self, session: AsyncSession, out: Outgoing, *, priority: int | None = None,
                      not_before: datetime | None = None, respect_quiet: bool = False,
                      dedup_key: str | None = None, source: str = "reply", bot: str | None = None) -> int:
        """Add rows in the caller's transaction; returns how many were added (0: a duplicate).

        `bot`: another bot of the district on this database, whose sender sends the rows (to its
        own contacts and groups, at its own pace); it is woken once the transaction commits."""
        sender = bot or self.bot
        if priority is None:
            priority = SOURCE_PRIORITY.get(source, REPLY)
        now = self.clock.now()
        due = max(not_before or now, now)
        if respect_quiet:
            due = quiet_end(due, self.quiet.start, self.quiet.end)
        pieces = split_text(out.text, self.settings.max_text_length) if out.kind == "text" else [out.text]
        rows = [
            {
                "bot": sender, "room_id": out.room_id, "contact_id": out.contact_id,
                "mention_ids": list(out.mention_ids) if i == 0 else [], "kind": out.kind,
                "body": piece, "priority": priority, "status": "pending", "attempts": 0,
                "not_before": due, "created_at": now, "source": source,
                "dedup_key": None if dedup_key is None else (dedup_key if i == 0 else f"{dedup_key}#{i}"),
            }
            for i, piece in enumerate(pieces)
        ]
        table = OutboxMessage.__table__
        if dedup_key is None:  # Core, with the transaction's other rows: no ORM identity is needed
            # A reply to someone who just wrote is routine (storage.later): lost in a server crash,
            # they ask again. A notice, a push, an emergency's reply wait for the server's disk.
            await insert_later(session, plain_insert(table), rows, routine=source == "reply" and priority < EMERGENCY)
            added = len(rows)
        else:
            conn = await session.connection()
            stmt = insert_ignoring(conn.dialect.name, table, ("bot", "dedup_key"))
            added = 0
            for row in rows:
                added += (await conn.execute(stmt, row)).rowcount or 0
        if sender != self.bot:
            after_commit(session, lambda: wake_bot(self._database, sender))
            return added
        if priority >= EMERGENCY:
            self._urgent_maybe = True
        self.idle.clear()
        return added

    def wake(self) -> None:
        """Call after the transaction that enqueued has committed."""
        self.idle.clear()
        self._wake.set()

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await self._recover()
        self._task = asyncio.create_task(self._run(), name="outbox-sender")
        _RUNNING[(self._database, self.bot)] = self

    async def stop(self) -> None:
        if _RUNNING.get((self._database, self.bot)) is self:
            del _RUNNING[(self._database, self.bot)]
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self.wake()

    async def _recover(self) -> None:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.bot == self.bot, OutboxMessage.status == "sending")
                .values(status="uncertain", last_error="bot stopped while sending; not resent")
            )
            if result.rowcount:
                log.warning("outbox rows left mid-send marked uncertain", extra={"rows": result.rowcount})
            recent = await session.execute(
                select(OutboxMessage.room_id, OutboxMessage.sent_at).where(
                    OutboxMessage.bot == self.bot, OutboxMessage.status == "sent",
                    OutboxMessage.room_id.is_not(None), OutboxMessage.sent_at > now - timedelta(hours=1),
                ).order_by(OutboxMessage.sent_at)
            )
            for room_id, sent_at in recent:
                self._room_sent[room_id].append(sent_at)

    async def stats(self) -> OutboxStats:
        async with self.sessions() as session:
            rows = dict((await session.execute(
                select(OutboxMessage.status, func.count()).where(OutboxMessage.bot == self.bot)
                .group_by(OutboxMessage.status)
            )).all())
        return OutboxStats(rows.get("pending", 0), rows.get("failed", 0), rows.get("uncertain", 0))

    # ---- sending -------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            # Cleared before looking, not before sleeping: a wake() that arrives while we query
            # (another transaction committing) must not be lost, or that message would wait.
            self._wake.clear()
            try:
                wait_until = await self._send_one()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database hiccuped: keep the sender alive
                log.exception("outbox sender error")
                wait_until = self.clock.now() + timedelta(seconds=5)
            if wait_until is None or wait_until > self.clock.now():
                await self._sleep(wait_until)

    async def _sleep(self, until: datetime | None) -> None:
        """Wait for `until` or for new work, whichever comes first."""
        if self._wake.is_set():
            return
        self.idle.set()
        waiters = [asyncio.ensure_future(self._wake.wait())]
        if until is not None:
            waiters.append(asyncio.ensure_future(self.clock.sleep_until(until)))
        # Real seconds, not the bot's clock: what it waits for is another process's commit.
        poll = asyncio.ensure_future(asyncio.sleep(self.settings.poll_seconds))
        try:
            await asyncio.wait([*waiters, poll], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in (*waiters, poll):
                w.cancel()
        if poll.done() and not poll.cancelled():
            self._urgent_maybe = True  # another process may have written an urgent row
        self.idle.clear()

    async def _send_one(self) -> datetime | None:
        """Send the next deliverable row; return when to look again (None: when woken)."""
        if self._paused or not self.transport.connected:
            return self.clock.now() + timedelta(seconds=1)
        now = self.clock.now()
        if self._next_normal_at and now < self._next_normal_at and not (self._urgent_maybe or self._urgent_retrying):
            return self._next_normal_at  # paced, and nothing urgent can be waiting
        self._urgent_maybe = False
        async with self.sessions() as session:
            candidates = (await session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.bot == self.bot, OutboxMessage.status == "pending",
                    OutboxMessage.not_before <= now,
                ).order_by(OutboxMessage.priority.desc(), OutboxMessage.not_before, OutboxMessage.id).limit(200)
            )).scalars().all()
            if not candidates:
                return await self._next_not_before(session)
        if candidates[0].priority >= EMERGENCY:
            self._urgent_maybe = True  # more may follow this one
        held: list[datetime] = []  # when each row passed over may go
        for row in candidates:
            urgent = row.priority >= EMERGENCY
            if not urgent and self._next_normal_at and now < self._next_normal_at:
                return self._next_normal_at
            if not urgent and row.room_id and not self._room_has_room(row.room_id, now):
                if not await self._to_friend_privately(row):
                    held.append(self._room_sent[row.room_id][0] + timedelta(hours=1))
                    continue  # this room is at its hourly cap; another room's message may go
            elif not urgent and self._mergeable(row):
                last = self._recent_answers.get((row.room_id, row.body))
                if last is not None and now < last + self._merge_window:
                    held.append(last + self._merge_window)
                    continue  # the same answer just went here: gather the askers into one
            await self._deliver(row, urgent)
            return self.clock.now() if urgent or self._next_normal_at is None else self._next_normal_at
        return min(held)

    @property
    def _merge_window(self) -> timedelta:
        return timedelta(seconds=self.settings.merge_window_seconds)

    def _mergeable(self, row: OutboxMessage) -> bool:
        """An answer @-mentioning someone in a group, that may carry other askers' names too."""
        return (bool(row.room_id and row.mention_ids) and row.kind == "text" and row.priority < EMERGENCY
                and row.source not in self.confidential_sources and self.settings.merge_window_seconds > 0)

    async def _to_friend_privately(self, row: OutboxMessage) -> bool:
        """The group is at its cap: an answer to one asker who is the bot's friend goes to them
        privately now rather than in an hour. True if the row was turned into a private one."""
        mentions = list(row.mention_ids or ())
        if len(mentions) != 1 or self.is_friend is None or not self.is_friend(mentions[0]) or row.kind != "text":
            return False
        body = TEXTS["capped_private"].format(body=row.body)
        async with self.sessions.begin() as session:
            changed = await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.status == "pending")
                .values(room_id=None, contact_id=mentions[0], mention_ids=[], body=body))
        if not changed.rowcount:
            return False
        row.room_id, row.contact_id, row.mention_ids, row.body = None, mentions[0], [], body
        return True

    async def _next_not_before(self, session: AsyncSession) -> datetime | None:
        return (await session.execute(
            select(func.min(OutboxMessage.not_before)).where(
                OutboxMessage.bot == self.bot, OutboxMessage.status == "pending")
        )).scalar()

    def _room_has_room(self, room_id: str, now: datetime) -> bool:
        sent = self._room_sent[room_id]
        while sent and sent[0] <= now - timedelta(hours=1):
            sent.popleft()
        return len(sent) < self.settings.room_hourly_cap

    async def _deliver(self, row: OutboxMessage, urgent: bool) -> None:
        mentions = tuple(row.mention_ids or ())
        async with self.sessions.begin() as session:
            if not await self._claim(session, row.id):
                return
            merged: list[int] = []
            if not urgent and self._mergeable(row):
                merged, mentions = await self._merge_same_answers(session, row, mentions)
            if merged:  # the row says whom it went to, so a retry @-mentions them all too
                await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                                      .values(mention_ids=list(mentions)))
        if merged:
            row.mention_ids = list(mentions)
            log.info("identical answers merged", extra={"outbox_id": row.id, "merged": len(merged)})
        out = Outgoing(row.room_id, row.contact_id, row.body, row.kind, mentions)
        try:
            await self.transport.send(out)
        except (TransportError, OSError, asyncio.TimeoutError) as exc:
            await self._failed(row, str(exc) or type(exc).__name__)
            return
        now = self.clock.now()
        async with self.sessions.begin() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                    status="sent", sent_at=now, **self._forget(row))
            )
        self._urgent_retrying.discard(row.id)
        self._drop_file(row)
        if row.room_id:
            self._room_sent[row.room_id].append(now)
            if self._mergeable(row):
                self._remember_answer(row.room_id, row.body, now)
        if not urgent:
            gap = self.settings.min_interval_seconds + self.rng.uniform(0, self.settings.jitter_seconds)
            self._next_normal_at = now + timedelta(seconds=gap)

    @staticmethod
    async def _claim(session: AsyncSession, row_id: int) -> bool:
        """Mark the row "sending" if it is still pending; False: another claimer has it. On
        PostgreSQL the row is locked first, skipping one another claimer holds (SQLite takes one
        writer at a time, and the pending condition alone decides)."""
        locked = (await session.execute(
            select(OutboxMessage.id).where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
            .with_for_update(skip_locked=True))).scalar()
        if locked is None:
            return False
        claimed = await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
            .values(status="sending", attempts=OutboxMessage.attempts + 1))
        return bool(claimed.rowcount)

    async def _merge_same_answers(self, session: AsyncSession, row: OutboxMessage,
                                  mentions: tuple[str, ...]) -> tuple[list[int], tuple[str, ...]]:
        """Take the other pending rows with this text for this group into `row`: their askers are
        @-mentioned in it and they are marked merged. Returns their ids and all the mentions."""
        now = self.clock.now()
        same = (await session.execute(
            select(OutboxMessage.id, OutboxMessage.mention_ids, OutboxMessage.source).where(
                OutboxMessage.bot == self.bot, OutboxMessage.status == "pending",
                OutboxMessage.room_id == row.room_id, OutboxMessage.kind == "text",
                OutboxMessage.body == row.body, OutboxMessage.not_before <= now,
                OutboxMessage.priority < EMERGENCY, OutboxMessage.id != row.id,
            ).order_by(OutboxMessage.id)
        )).all()
        same = [(i, m) for i, m, source in same if m and source not in self.confidential_sources]
        if not same:
            return [], mentions
        ids = [i for i, _ in same]
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == "pending")
            .values(status=MERGED, sent_at=now, last_error=f"merged into #{row.id}"))
        everyone = list(dict.fromkeys([*mentions, *(m for _, ms in same for m in ms)]))
        return ids, tuple(everyone)

    def _remember_answer(self, room_id: str, body: str, at: datetime) -> None:
        self._recent_answers[(room_id, body)] = at
        if len(self._recent_answers) > 1000:  # forget the ones whose window has passed
            cutoff = at - self._merge_window
            self._recent_answers = {k: t for k, t in self._recent_answers.items() if t > cutoff}

    def _forget(self, row: OutboxMessage) -> dict:
        return {"contact_id": None, "body": ""} if row.source in self.confidential_sources else {}

    def _drop_file(self, row: OutboxMessage) -> None:
        if row.source in self.confidential_sources and row.kind in ("image", "file") and row.body:
            try:
                Path(row.body).unlink(missing_ok=True)
            except OSError as exc:
                log.warning("could not delete a sent confidential file", extra={"outbox_id": row.id, "error": str(exc)})

    async def _failed(self, row: OutboxMessage, error: str) -> None:
        attempts = row.attempts + 1
        gave_up = attempts >= self.settings.max_attempts
        backoff = timedelta(seconds=min(5 * 2 ** (attempts - 1), 600))
        if row.priority >= EMERGENCY and not gave_up:
            self._urgent_retrying.add(row.id)
        else:
            self._urgent_retrying.discard(row.id)
        async with self.sessions.begin() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                    status="failed" if gave_up else "pending", last_error=error[:500],
                    not_before=self.clock.now() + backoff, **(self._forget(row) if gave_up else {}),
                )
            )
        if gave_up:
            self._drop_file(row)
            log.error("outbox message failed for good", extra={"outbox_id": row.id, "error": error})
            if self.on_failed is not None and row.source != "failure-report":
                await self.on_failed(row)
        else:
            log.warning("send failed, will retry", extra={"outbox_id": row.id, "attempt": attempts, "error": error})
