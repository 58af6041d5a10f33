"""Statistics queries over the counters: totals for a date range, per room/category/day, since the start.

Totals since the start would scan every counter row ever written; closed months are therefore
rolled up once into `stats_month_totals`, and a report adds the rolled months to the counters of
the months still open. Rolled months form a contiguous run from the first counted month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Date, Integer, String, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.counters import WHOLE_DAY
from storage.models import ActiveSender, Base, Counter, Room
from storage.upsert import insert_for

ROLLED = "__rolled__"  # marker row: this month is rolled up (even when it counted nothing)
# A month is rolled up only when it closed this many days ago: a late write-behind flush is in.
ROLL_AFTER = timedelta(days=2)


class MonthTotal(Base):
    """Whole-day counters of one closed month, summed per room, metric and key."""

    __tablename__ = "stats_month_totals"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day of the month
    room_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), default="")
    value: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class Scope:
    """Which counters a question is about: all, one room, or one category."""

    room_id: str | None = None
    category: str | None = None

    def where(self, table) -> list:
        conds = []
        if self.room_id is not None:
            conds.append(table.room_id == self.room_id)
        if self.category is not None:
            conds.append(table.category == self.category)
        return conds


@dataclass
class Totals:
    """Sums for a period: by (metric, key), and by metric per category and per room."""

    by_key: dict[tuple[str, str], int] = field(default_factory=dict)
    by_category: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    by_room: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def get(self, metric: str, key: str | None = None) -> int:
        if key is not None:
            return self.by_key.get((metric, key), 0)
        return sum(v for (m, _), v in self.by_key.items() if m == metric)

    def keys(self, metric: str) -> dict[str, int]:
        return {k: v for (m, k), v in self.by_key.items() if m == metric and v}

    def add(self, metric: str, key: str, category: str, room_id: str, value: int) -> None:
        self.by_key[(metric, key)] = self.by_key.get((metric, key), 0) + value
        cat = self.by_category[category]
        cat[metric] = cat.get(metric, 0) + value
        room = self.by_room[room_id]
        room[metric] = room.get(metric, 0) + value


async def totals(session: AsyncSession, bot: str, start: date, end: date, scope: Scope = Scope()) -> Totals:
    """Whole-day counters summed over days [start, end]."""
    return (await totals_by_bot(session, [bot], start, end, scope))[bot]


async def totals_by_bot(session: AsyncSession, bots: Sequence[str], start: date, end: date, scope: Scope = Scope(),
                        *, rolled: bool = False, rooms: bool = True,
                        known_rolled: dict[str, date | None] | None = None) -> dict[str, Totals]:
    """`totals` of several bots (a district) in one query, GROUP BY bot.

    `rolled`: months inside [start, end] that are rolled up are read from `stats_month_totals`
    instead of their counters (a year of 189 communities is millions of counter rows, a few
    thousand month rows); call `roll_up_months_of` first.
    `rooms=False`: by_room keeps private chats ('') apart from all groups together (ALL_GROUPS),
    not each group: what a district report needs, in a sixth of the rows.
    `known_rolled`: `last_rolled(bots)` if the caller has it already (one scan of the markers less).
    """
    result = {bot: Totals() for bot in bots}
    spans: list[tuple[list[str], list[tuple[date, date]], tuple[date, date] | None]] = []
    if rolled:
        by_last: dict[date | None, list[str]] = defaultdict(list)
        for bot, last in (known_rolled if known_rolled is not None else await last_rolled(session, bots)).items():
            by_last[last].append(bot)
        for last, some in by_last.items():
            months = full_months(start, end, last)
            if months is None:
                spans.append((some, [(start, end)], None))
            else:
                first, final = months
                days = [(start, first - timedelta(days=1)), (next_month(final), end)]
                spans.append((some, [(a, b) for a, b in days if a <= b], months))
    else:
        spans.append((list(bots), [(start, end)], None))
    for some, days, months in spans:
        if months is not None:
            room = _room_column(MonthTotal, rooms)
            q = (select(MonthTotal.bot, MonthTotal.metric, MonthTotal.key, MonthTotal.category, room,
                        func.sum(MonthTotal.value))
                 .where(MonthTotal.bot.in_(some), MonthTotal.month >= months[0], MonthTotal.month <= months[1],
                        MonthTotal.metric != ROLLED, *scope.where(MonthTotal))
                 .group_by(MonthTotal.bot, MonthTotal.metric, MonthTotal.key, MonthTotal.category, room))
            for bot, metric, key, category, room_id, value in await session.execute(q):
                result[bot].add(metric, key, category, room_id, int(value))
        if not days:
            continue
        room = _room_column(Counter, rooms)
        q = (select(Counter.bot, Counter.metric, Counter.key, Counter.category, room, func.sum(Counter.value))
             .where(Counter.bot.in_(some) if len(some) > 1 else Counter.bot == some[0], Counter.hour == WHOLE_DAY,
                    or_(*(and_(Counter.day >= a, Counter.day <= b) for a, b in days)), *scope.where(Counter))
             .group_by(Counter.bot, Counter.metric, Counter.key, Counter.category, room))
        for bot, metric, key, category, room_id, value in await session.execute(q):
            result[bot].add(metric, key, category, room_id, int(value))
    return result


ALL_GROUPS = "*"  # by_room's key for every group together (totals_by_bot rooms=False)


def _room_column(table, rooms: bool):
    return table.room_id if rooms else case((table.room_id == "", ""), else_=ALL_GROUPS).label("room")


def full_months(start: date, end: date, last_rolled: date | None) -> tuple[date, date] | None:
    """The first and last rolled month lying wholly inside [start, end], or None."""
    if last_rolled is None:
        return None
    first = start if start.day == 1 else next_month(start)
    final = month_start(end + timedelta(days=1)) - timedelta(days=1)  # the last month ending by `end`
    final = min(month_start(final), last_rolled)
    return (first, final) if first <= final and next_month(final) - timedelta(days=1) <= end else None


async def last_rolled(session: AsyncSession, bots: Sequence[str], before: date | None = None) -> dict[str, date | None]:
    """Each bot's last rolled-up month (None: none rolled), optionally only months before `before`."""
    q = (select(MonthTotal.bot, func.max(MonthTotal.month))
         .where(MonthTotal.bot.in_(bots), MonthTotal.metric == ROLLED).group_by(MonthTotal.bot))
    if before is not None:
        q = q.where(MonthTotal.month < before)
    found = dict((await session.execute(q)).all())
    return {bot: found.get(bot) for bot in bots}


async def daily(session: AsyncSession, bot: str, start: date, end: date, metrics: list[str],
                scope: Scope = Scope()) -> dict[str, list[int]]:
    """For each metric, one number per day from start to end (for charts)."""
    q = (select(Counter.day, Counter.metric, func.sum(Counter.value))
         .where(Counter.bot == bot, Counter.day >= start, Counter.day <= end, Counter.hour == WHOLE_DAY,
                Counter.metric.in_(metrics), *scope.where(Counter))
         .group_by(Counter.day, Counter.metric))
    days = (end - start).days + 1
    series = {m: [0] * days for m in metrics}
    for day, metric, value in await session.execute(q):
        series[metric][(day - start).days] = int(value)
    return series


async def active_people(session: AsyncSession, bot: str, start: date, end: date, scope: Scope = Scope()) -> int:
    """Distinct senders per room and day, added up over the days (人次)."""
    q = select(func.count()).select_from(ActiveSender).where(
        ActiveSender.bot == bot, ActiveSender.day >= start, ActiveSender.day <= end)
    if scope.room_id is None and scope.category is None:
        q = q.where(ActiveSender.room_id != "")  # in the groups: a private service chat is no 交流
    if scope.room_id is not None:
        q = q.where(ActiveSender.room_id == scope.room_id)
    elif scope.category is not None:
        rooms = select(Counter.room_id).where(Counter.bot == bot, Counter.day >= start, Counter.day <= end,
                                              Counter.category == scope.category).distinct()
        q = q.where(ActiveSender.room_id.in_(rooms))
    return int((await session.execute(q)).scalar_one())


def month_start(d: date) -> date:
    return d.replace(day=1)


def next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


async def roll_up_months(session: AsyncSession, bot: str, today: date) -> int:
    """Roll up every closed month not rolled yet, oldest first; returns how many were rolled."""
    return await roll_up_months_of(session, [bot], today)


async def roll_up_months_of(session: AsyncSession, bots: Sequence[str], today: date) -> int:
    """`roll_up_months` for several bots: one INSERT per month for all bots that need it.
    Returns the number of (bot, month) pairs rolled."""
    return (await roll_up_and_tell(session, bots, today))[0]


async def roll_up_and_tell(session: AsyncSession, bots: Sequence[str], today: date) -> tuple[int, dict[str, date | None]]:
    """`roll_up_months_of`, and each bot's last rolled month afterwards (for `known_rolled`)."""
    known = await last_rolled(session, bots)
    todo = {bot: next_month(last) for bot, last in known.items() if last is not None}
    fresh = [bot for bot in bots if bot not in todo]
    if fresh:
        firsts = (select(Counter.bot, func.min(Counter.day)).where(Counter.bot.in_(fresh)).group_by(Counter.bot))
        todo.update({bot: month_start(first) for bot, first in await session.execute(firsts)})
    if not todo:
        return 0, known
    insert = insert_for(session)
    n = 0
    month = min(todo.values())
    while next_month(month) + ROLL_AFTER <= today:
        due = sorted(bot for bot, m in todo.items() if m <= month)
        sums = (select(Counter.bot, Counter.room_id, Counter.metric, Counter.key,
                       func.max(Counter.category), func.sum(Counter.value))
                .where(Counter.bot.in_(due), Counter.day >= month, Counter.day < next_month(month),
                       Counter.hour == WHOLE_DAY)
                .group_by(Counter.bot, Counter.room_id, Counter.metric, Counter.key))
        rows = [{"bot": b, "month": month, "room_id": r, "metric": m, "key": k, "category": c or "", "value": int(v)}
                for b, r, m, k, c, v in await session.execute(sums)]
        rows += [{"bot": bot, "month": month, "room_id": "", "metric": ROLLED, "key": "", "category": "", "value": 0}
                 for bot in due]
        for i in range(0, len(rows), ROWS_PER_INSERT):
            await session.execute(insert(MonthTotal).on_conflict_do_nothing(), rows[i:i + ROWS_PER_INSERT])
        known.update({bot: month for bot in due})
        month = next_month(month)
        n += len(due)
    return n, known


ROWS_PER_INSERT = 5000


async def since_start(session: AsyncSession, bot: str, end: date, scope: Scope = Scope()) -> Totals:
    """Whole-day counters summed from the first day counted up to `end`, rolled months included."""
    return (await since_start_by_bot(session, [bot], end, scope))[bot]


async def since_start_by_bot(session: AsyncSession, bots: Sequence[str], end: date, scope: Scope = Scope(),
                             *, rooms: bool = True, metrics: Sequence[str] | None = None,
                             known_rolled: dict[str, date | None] | None = None) -> dict[str, Totals]:
    """`since_start` of several bots: two queries per distinct last rolled month (usually one).
    `rooms=False` as in totals_by_bot; `metrics`: only these (a district's years add up fast)."""
    only = [] if metrics is None else [MonthTotal.metric.in_(metrics)]
    only_counters = [] if metrics is None else [Counter.metric.in_(metrics)]
    result = {bot: Totals() for bot in bots}
    by_last: dict[date | None, list[str]] = defaultdict(list)
    if known_rolled is None:
        before = await last_rolled(session, bots, before=month_start(end))
    else:  # rolled months are contiguous: the last one before `end`'s month is at most the month before
        cap = month_start(month_start(end) - timedelta(days=1))
        before = {bot: None if last is None else min(last, cap) for bot, last in known_rolled.items()}
    for bot, last in before.items():
        by_last[last].append(bot)
    for last, some in by_last.items():
        counters_from = date(1970, 1, 1)
        if last is not None:
            counters_from = next_month(last)
            room = _room_column(MonthTotal, rooms)
            q = (select(MonthTotal.bot, MonthTotal.metric, MonthTotal.key, MonthTotal.category, room,
                        func.sum(MonthTotal.value))
                 .where(MonthTotal.bot.in_(some), MonthTotal.month <= last, MonthTotal.metric != ROLLED,
                        *only, *scope.where(MonthTotal))
                 .group_by(MonthTotal.bot, MonthTotal.metric, MonthTotal.key, MonthTotal.category, room))
            for bot, metric, key, category, room_id, value in await session.execute(q):
                result[bot].add(metric, key, category, room_id, int(value))
        room = _room_column(Counter, rooms)
        q = (select(Counter.bot, Counter.metric, Counter.key, Counter.category, room, func.sum(Counter.value))
             .where(Counter.bot.in_(some) if len(some) > 1 else Counter.bot == some[0], Counter.day >= counters_from,
                    Counter.day <= end, Counter.hour == WHOLE_DAY, *only_counters, *scope.where(Counter))
             .group_by(Counter.bot, Counter.metric, Counter.key, Counter.category, room))
        for bot, metric, key, category, room_id, value in await session.execute(q):
            result[bot].add(metric, key, category, room_id, int(value))
    return result


async def first_day(session: AsyncSession, bot: str) -> date | None:
    """The first day anything was counted: "since the start"."""
    return (await session.execute(select(func.min(Counter.day)).where(Counter.bot == bot))).scalar_one()


async def first_month_of(session: AsyncSession, bots: Sequence[str]) -> date | None:
    """The first month any of `bots` counted anything (its first day). Rolled months start at the
    first counted one, so their markers answer without reading every bot's counters."""
    rolled = (await session.execute(select(func.min(MonthTotal.month)).where(
        MonthTotal.bot.in_(bots), MonthTotal.metric == ROLLED))).scalar_one()
    if rolled is not None:
        return rolled
    first = (await session.execute(select(func.min(Counter.day)).where(Counter.bot.in_(bots)))).scalar_one()
    return month_start(first) if first is not None else None


async def groups_by_category(session: AsyncSession, bots: Sequence[str]) -> dict[str, dict[str, int]]:
    """How many groups each bot serves per category ('' : none given), in one query."""
    q = (select(Room.bot, Room.category, func.count()).where(Room.bot.in_(bots))
         .group_by(Room.bot, Room.category))
    result: dict[str, dict[str, int]] = {bot: {} for bot in bots}
    for bot, category, n in await session.execute(q):
        result[bot][category or ""] = int(n)
    return result
