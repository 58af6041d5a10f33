"""Consultations, suggestions and disputes: what residents asked, proposed or reported, and the lines
the registers make of them.

Text is kept only where a flow needs it (an officer answers a consultation or a suggestion later;
the dispute register needs a summary), always with phone and ID numbers masked.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, TypeVar

from sqlalchemy import Index, Integer, String, Text, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from storage.console import account_of
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


class RegisterLine(NamedTuple):
    """A record with the names a register shows (None: not known to the bot)."""

    record: Consultation | Suggestion | DisputeRecord
    room_name: str | None
    resident_name: str | None  # who asked, proposed or reported it
    officer_name: str | None  # who answered or resolved it: an officer, a console account ("guide": none)


# Who raised each kind of record and who dealt with it: the two contacts its register row names.
_PEOPLE = {Consultation: ("asker_id", "answered_by"), Suggestion: ("author_id", "answered_by"),
           DisputeRecord: ("reporter_id", "resolved_by")}


async def recorded_between(session: AsyncSession, model: type[Answerable], bot: str, since: datetime,
                           until: datetime) -> list[RegisterLine]:
    """The records of `model` stamped in [since, until), oldest first, with their names."""
    raised_by, dealt_by = (getattr(model, column) for column in _PEOPLE[model])
    resident, officer = aliased(Contact), aliased(Contact)
    rows = await session.execute(
        select(model, Room.name, resident.name, officer.name)
        .outerjoin(Room, and_(Room.bot == model.bot, Room.id == model.room_id))
        .outerjoin(resident, and_(resident.bot == model.bot, resident.id == raised_by))
        .outerjoin(officer, and_(officer.bot == model.bot, officer.id == dealt_by))
        .where(model.bot == bot, model.at >= since, model.at < until)
        .order_by(model.at, model.id))
    # An answer given on the console names its account, as a chat answer names the officer.
    return [RegisterLine(record, room, asker, officer_name if officer_name is not None
                         else account_of(getattr(record, dealt_by.key)))
            for record, room, asker, officer_name in rows]


class IntentCase(Base):
    """A message the bot acted on by its own reading (an emergency alert, a scam warning, a
    forward), numbered in what the officer sees so `/纠正 N 类别` can fix the reading. A
    corrected case is local labelled data for `jingmin train`; the text is masked."""

    __tablename__ = "intent_cases"
    __table_args__ = (Index("ix_intent_cases_label", "bot", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(Stamp)
    text: Mapped[str] = mapped_column(Text)  # masked
    predicted: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(16))  # None until an officer corrects it
    corrected_by: Mapped[str | None] = mapped_column(String(128))
    corrected_at: Mapped[datetime | None] = mapped_column(Stamp)


async def record_case(session: AsyncSession, bot: str, at: datetime, text: str, predicted: str) -> IntentCase:
    case = IntentCase(bot=bot, at=at, text=text, predicted=predicted)
    session.add(case)
    await session.flush()  # the id goes into the alert
    return case


async def correct_case(session: AsyncSession, bot: str, case_id: int, label: str, by: str,
                       at: datetime) -> IntentCase | None:
    case = await session.get(IntentCase, case_id)
    if case is None or case.bot != bot:
        return None
    case.label, case.corrected_by, case.corrected_at = label, by, at
    return case


async def corrected_cases(session: AsyncSession, bot: str | None = None) -> list[tuple[str, str]]:
    """(label, text) of every corrected case, oldest first; all bots of the database by default."""
    query = select(IntentCase.label, IntentCase.text).where(IntentCase.label.is_not(None))
    if bot is not None:
        query = query.where(IntentCase.bot == bot)
    rows = await session.execute(query.order_by(IntentCase.id))
    return [(label, text) for label, text in rows]
