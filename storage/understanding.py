"""Consultations, suggestions and the dispute register: what residents asked, proposed or reported.

Text is kept only where a flow needs it (an officer answers a consultation or a suggestion later;
the dispute register needs a summary), always with phone and ID numbers masked.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, TypeVar

from sqlalchemy import Index, Integer, String, Text, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from storage.models import Base, Contact, Room, Stamp

OPEN = "open"
ANSWERED = "answered"
RESOLVED = "resolved"


class Consultation(Base):
    """业务咨询: answered from the guide at once, or forwarded and answered by an officer."""

    __tablename__ = "consultations"
    __table_args__ = (Index("ix_consultations_open", "bot", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(Stamp)
    room_id: Mapped[str | None] = mapped_column(String(128))  # None: asked in private chat
    asker_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)  # masked
    entry_id: Mapped[str | None] = mapped_column(String(64))  # the guide entry that answered it
    status: Mapped[str] = mapped_column(String(10), default=OPEN)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(Stamp)
    answered_by: Mapped[str | None] = mapped_column(String(128))  # contact id, or "guide"

    @property
    def resident_id(self) -> str:
        return self.asker_id


class Suggestion(Base):
    """意见建议: thanked at once, answerable by an officer."""

    __tablename__ = "suggestions"
    __table_args__ = (Index("ix_suggestions_open", "bot", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(Stamp)
    room_id: Mapped[str | None] = mapped_column(String(128))
    author_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)  # masked
    status: Mapped[str] = mapped_column(String(10), default=OPEN)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(Stamp)
    answered_by: Mapped[str | None] = mapped_column(String(128))

    @property
    def resident_id(self) -> str:
        return self.author_id


class DisputeRecord(Base):
    """矛盾纠纷排查化解登记簿: one row per reported dispute, time recorded by the system."""

    __tablename__ = "disputes"
    __table_args__ = (Index("ix_disputes_bot_at", "bot", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(Stamp)
    room_id: Mapped[str | None] = mapped_column(String(128))
    reporter_id: Mapped[str] = mapped_column(String(128))  # so the officer can follow up
    summary: Mapped[str] = mapped_column(Text)  # masked
    status: Mapped[str] = mapped_column(String(10), default=OPEN)  # open | resolved
    outcome: Mapped[str | None] = mapped_column(Text)  # 化解情况, masked
    resolved_at: Mapped[datetime | None] = mapped_column(Stamp)
    resolved_by: Mapped[str | None] = mapped_column(String(128))  # the officer's contact id

    @property
    def resident_id(self) -> str:
        return self.reporter_id

    @property
    def text(self) -> str:
        return self.summary


# What officers follow up by number (handlers.followup): each has resident_id, text and status.
Answerable = TypeVar("Answerable", Consultation, Suggestion, DisputeRecord)


async def open_items(session: AsyncSession, model: type[Answerable], bot: str, limit: int = 20) -> list[Answerable]:
    rows = await session.execute(
        select(model).where(model.bot == bot, model.status == OPEN).order_by(model.id).limit(limit))
    return list(rows.scalars())


async def count_open(session: AsyncSession, model: type[Answerable], bot: str) -> int:
    return (await session.execute(
        select(func.count()).where(model.bot == bot, model.status == OPEN))).scalar_one()


async def get_item(session: AsyncSession, model: type[Answerable], bot: str, item_id: int) -> Answerable | None:
    row = await session.get(model, item_id)
    return row if row is not None and row.bot == bot else None


class DisputeLine(NamedTuple):
    """A dispute with the names the register shows (None: not known to the bot)."""

    record: DisputeRecord
    room_name: str | None
    reporter_name: str | None
    resolver_name: str | None


async def disputes_between(session: AsyncSession, bot: str, since: datetime, until: datetime) -> list[DisputeLine]:
    reporter, resolver = aliased(Contact), aliased(Contact)
    rows = await session.execute(
        select(DisputeRecord, Room.name, reporter.name, resolver.name)
        .outerjoin(Room, and_(Room.bot == DisputeRecord.bot, Room.id == DisputeRecord.room_id))
        .outerjoin(reporter, and_(reporter.bot == DisputeRecord.bot, reporter.id == DisputeRecord.reporter_id))
        .outerjoin(resolver, and_(resolver.bot == DisputeRecord.bot, resolver.id == DisputeRecord.resolved_by))
        .where(DisputeRecord.bot == bot, DisputeRecord.at >= since, DisputeRecord.at < until)
        .order_by(DisputeRecord.at, DisputeRecord.id))
    return [DisputeLine(*row) for row in rows]
