"""Counters for the statistics: per bot, day, hour, room, metric and key. Texts are never kept."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ActiveSender, Counter
from storage.upsert import insert_for, insert_on

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
    await session.execute(_upsert(session.bind.dialect.name), rows)


async def bump(session: AsyncSession, bot: str, at: datetime, metric: str, *, room_id: str | None = None,
               category: str = "", key: str = "", n: int = 1) -> None:
    """Count one event of `metric` for the day of `at` (in the clock's time zone)."""
    await bump_many(session, bot, {CountKey(at.date(), WHOLE_DAY, room_id or "", category, metric, key): n})


def sender_hash(secret: bytes, sender_id: str) -> str:
    return hmac.new(secret, sender_id.encode(), hashlib.sha256).hexdigest()[:32]


async def add_active_senders(session: AsyncSession, bot: str, seen: set[tuple[date, str, str]]) -> None:
    if not seen:
        return
    insert = insert_for(session)
    stmt = insert(ActiveSender).on_conflict_do_nothing()
    await session.execute(stmt, [
        {"bot": bot, "day": d, "room_id": room, "sender_hash": h} for d, room, h in sorted(seen)
    ])


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
