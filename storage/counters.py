"""Counters for the statistics: per bot, day, hour, room, metric and key. Texts are never kept."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.later import insert_later
from storage.models import ActiveSender, Counter, ProcessedMessage, Room, Stamp
from storage.upsert import insert_ignoring, insert_on

WHOLE_DAY = -1


@dataclass(frozen=True)
class CountKey:
    day: date
    hour: int
    room_id: str
    category: str
    metric: str
    key: str = ""


@cache
def _upsert(dialect: str):
    """INSERT ... ON CONFLICT adding to the value, built once per dialect (building is not cheap)."""
    insert = insert_on(dialect)(Counter)
    return insert.on_conflict_do_update(
        index_elements=["bot", "day", "hour", "room_id", "metric", "key"],
        set_={"value": Counter.value + insert.excluded.value, "category": insert.excluded.category},
    )


async def bump_many(session: AsyncSession, bot: str, increments: dict[CountKey, int]) -> None:
    if not increments:
        return
    rows = [
        {"bot": bot, "day": k.day, "hour": k.hour, "room_id": k.room_id, "category": k.category,
         "metric": k.metric, "key": k.key, "value": n}
        for k, n in sorted(increments.items(), key=lambda kv: (kv[0].day, kv[0].hour, kv[0].room_id, kv[0].metric, kv[0].key))
    ]
    # Core, with the transaction's other rows: the ORM's execute costs more than the upsert
    await insert_later(session, _upsert(session.bind.dialect.name), rows, routine=True)


async def bump(session: AsyncSession, bot: str, at: datetime, metric: str, *, room_id: str | None = None,
               category: str = "", key: str = "", n: int = 1) -> None:
    """Count one event of `metric` for the day of `at` (in the clock's time zone)."""
    await bump_many(session, bot, {CountKey(at.date(), WHOLE_DAY, room_id or "", category, metric, key): n})


def sender_hash(secret: bytes, sender_id: str) -> str:
    # surrogatepass: an id with a lone surrogate (a broken gateway, a fuzzer) still has a hash
    return hmac.new(secret, sender_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


async def add_active_senders(session: AsyncSession, bot: str, seen: set[tuple[date, str, str]]) -> None:
    if seen:
        await insert_later(session, insert_ignoring(session.bind.dialect.name, ActiveSender.__table__), [
            {"bot": bot, "day": d, "room_id": room, "sender_hash": h} for d, room, h in sorted(seen)], routine=True)


async def mark_processed(session: AsyncSession, bot: str, processed: dict[str, datetime]) -> None:
    """Note the ids of messages that needed no action (a redelivery after a restart is dropped)."""
    if processed:
        await insert_later(session, insert_ignoring(session.bind.dialect.name, ProcessedMessage.__table__), [
            {"bot": bot, "id": i, "received_at": at} for i, at in processed.items()], routine=True)


ROOMS_PER_STATEMENT = 500  # keeps the bound parameters far below SQLite's limit


async def touch_rooms(session: AsyncSession, bot: str, active: dict[str, datetime]) -> None:
    """Each room's last activity, in one UPDATE per 500 rooms (not one per room: with 1000
    groups that held SQLite's write lock a thousand statements long)."""
    rooms = sorted(active.items())
    for i in range(0, len(rooms), ROOMS_PER_STATEMENT):
        chunk = dict(rooms[i:i + ROOMS_PER_STATEMENT])
        when = case({room: bindparam(None, at, type_=Stamp) for room, at in chunk.items()}, value=Room.id)
        await session.execute(update(Room).where(Room.bot == bot, Room.id.in_(list(chunk)))
                              .values(last_active_at=when).execution_options(synchronize_session=False))


async def total(session: AsyncSession, bot: str, metric: str, *, start: date | None = None,
                end: date | None = None, room_id: str | None = None, key: str | None = None) -> int:
    """Sum of a metric over whole-day rows, optionally limited to days [start, end] and a room."""
    q = select(func.coalesce(func.sum(Counter.value), 0)).where(
        Counter.bot == bot, Counter.metric == metric, Counter.hour == WHOLE_DAY)
    if start:
        q = q.where(Counter.day >= start)
    if end:
        q = q.where(Counter.day <= end)
    if room_id is not None:
        q = q.where(Counter.room_id == room_id)
    if key is not None:
        q = q.where(Counter.key == key)
    return int((await session.execute(q)).scalar_one())
