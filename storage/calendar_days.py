"""Days the post set in chat with /节假日: a holiday, a make-up workday (调休), or an ordinary day
that takes back a holiday or 调休 the calendar would otherwise give (bot.workcal reads them)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Stamp


class CalendarDay(Base):
    __tablename__ = "calendar_days"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # holiday | workday | ordinary
    name: Mapped[str] = mapped_column(String(32), default="")
    set_by: Mapped[str] = mapped_column(String(128))
    set_at: Mapped[datetime] = mapped_column(Stamp)


async def load(session: AsyncSession, bot: str) -> dict[date, tuple[str, str]]:
    rows = (await session.execute(select(CalendarDay).where(CalendarDay.bot == bot))).scalars()
    return {r.day: (r.kind, r.name) for r in rows}


async def put(session: AsyncSession, bot: str, days: list[date], kind: str, name: str, by: str,
              at: datetime) -> None:
    for day in days:
        row = await session.get(CalendarDay, (bot, day))
        if row is None:
            session.add(CalendarDay(bot=bot, day=day, kind=kind, name=name, set_by=by, set_at=at))
        else:
            row.kind, row.name, row.set_by, row.set_at = kind, name, by, at
    await session.flush()


async def remove(session: AsyncSession, bot: str, days: list[date]) -> None:
    await session.execute(delete(CalendarDay).where(CalendarDay.bot == bot, CalendarDay.day.in_(days)))
