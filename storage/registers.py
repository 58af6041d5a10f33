"""The paper registers the article's "五个定位" asks for, filled from what the system recorded.

Each register has fixed columns. Features that own the records (consultations, appointments,
disputes) declare a row provider on their plugin:

    @plugin.register_rows("reception")
    async def consultation_rows(session, config, start, end) -> list[RegisterRow]: ...

and the exporter asks every loaded provider of a register for the rows of days [start, end]. A provider
knows no time zone: it may select by `day_bounds` (a day wider on each side) and leave a time in a
cell as a datetime; the exporter keeps the rows of those days and writes every time in its own zone.
Times are the ones the system stamped when the thing happened, never typed in later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Register:
    code: str
    title: str
    columns: tuple[str, ...]  # what a provider fills, besides 序号 which the exporter numbers


REGISTERS: dict[str, Register] = {
    "reception": Register("reception", "接待服务登记簿",
                          ("登记时间", "类别", "事项", "来源", "群众", "办理情况", "办结时间", "经办人")),
    "dispute": Register("dispute", "矛盾纠纷排查化解登记簿",
                        ("登记时间", "来源", "纠纷类型", "简要情况", "当事人", "化解情况", "化解时间", "经办人")),
}


@dataclass(frozen=True)
class RegisterRow:
    at: datetime  # when the system recorded it: rows are ordered by this
    # column title -> text (masked by the provider), or a time the exporter writes in its zone
    cells: dict[str, str | datetime] = field(default_factory=dict)


# (session, the bot's config, first day, last day) -> rows; the config names the bot and its topics.
RowProvider = Callable[[AsyncSession, Any, date, date], Awaitable[list[RegisterRow]]]


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """UTC bounds holding the days [start, end] in any time zone (UTC-12 to UTC+14)."""
    return (datetime.combine(start - timedelta(days=1), time(), timezone.utc),
            datetime.combine(end + timedelta(days=2), time(), timezone.utc))


async def collect(session: AsyncSession, config: Any, providers: list[RowProvider], start: date, end: date,
                  tz: tzinfo | None = None) -> list[RegisterRow]:
    """The rows `providers` give for days [start, end] (in `tz`, when given), oldest first."""
    rows: list[RegisterRow] = []
    for provider in providers:
        rows.extend(await provider(session, config, start, end))
    if tz is not None:
        rows = [r for r in rows if start <= r.at.astimezone(tz).date() <= end]
    return sorted(rows, key=lambda r: r.at)
