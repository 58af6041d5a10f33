"""The district's bots as the console sees them: which bots a district account may look at, and the
numbers of each for a week (the 全区统计 page). Read from the one database every bot of the
district writes; no other bot's process is asked.

`district_overview` is the page's only source of numbers, written on the single-bot statistics
(storage.stats, handlers.stats.report): the same counters `jingmin district stats` sums, GROUP BY bot."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.stats.report import group_messages
from storage import stats
from storage.models import Counter, Room

# The figures of a bot's row, in the order the page shows them: (key, metric in the counters).
FIGURES = (("messages", None), ("consultations", "consultations"), ("suggestions", "suggestions"),
           ("tips", "tips"), ("bookings", "appointments_booked"))


async def district_bots(app, session: AsyncSession) -> list[str]:
    """The bots of this bot's district file; without one, every bot that wrote to this database
    (this one first)."""
    if app.district is not None and app.district.bots:
        return list(app.district.bots)
    query = union(select(Counter.bot).distinct(), select(Room.bot).distinct())
    found = sorted({bot for (bot,) in await session.execute(query)} - {app.name})
    return [app.name, *found]


async def district_overview(session: AsyncSession, bots: list[str], start: date, end: date) -> list[dict]:
    """One row per bot for days [start, end]: messages in the groups, consultations, suggestions,
    tips and bookings made."""
    rows = []
    by_bot = await stats.totals_by_bot(session, bots, start, end)  # one query for the district
    for bot in bots:
        totals = by_bot[bot]
        row = {"bot": bot}
        for key, metric in FIGURES:
            row[key] = group_messages(totals) if metric is None else totals.get(metric)
        rows.append(row)
    return rows


async def room_names(session: AsyncSession, bot: str) -> dict[str, str]:
    """Another bot's groups by id, as it last saw them (this process has only its own directory)."""
    return {room_id: name for room_id, name in await session.execute(
        select(Room.id, Room.name).where(Room.bot == bot))}
