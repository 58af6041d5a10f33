"""Appointments (预约办理): bookings, the places taken per slot, and days an officer closed.

Capacity is enforced by one conditional UPDATE on `appointment_slots.taken` (taken < capacity):
on PostgreSQL the second of two racing transactions waits for the row and re-checks; on SQLite
the handler transaction already holds the write lock. Either way one of them gets the last place.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Text, UniqueConstraint, and_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.console import account_of
from storage.models import Base, Contact, Stamp
from storage.upsert import insert_for

BOOKED, CANCELLED, COMPLETED, NO_SHOW = "booked", "cancelled", "completed", "no_show"


class Booking(Base):
    """One resident's booked slot. The phone is stored encrypted (Fernet), never in plain text."""

    __tablename__ = "appointment_bookings"
    __table_args__ = (
        UniqueConstraint("bot", "code", name="uq_appointment_bookings_code"),
        # One active booking per person per service, kept by the database itself.
        Index("uq_appointment_bookings_active", "bot", "contact_id", "service", unique=True,
              sqlite_where=text("status = 'booked'"), postgresql_where=text("status = 'booked'")),
        Index("ix_appointment_bookings_day", "bot", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(12))
    service: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    slot_start: Mapped[datetime] = mapped_column(Stamp)
    slot_end: Mapped[datetime] = mapped_column(Stamp)
    contact_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(64))
    phone_enc: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=BOOKED)
    created_at: Mapped[datetime] = mapped_column(Stamp)
    closed_at: Mapped[datetime | None] = mapped_column(Stamp)  # when it stopped being "booked"
    closed_by: Mapped[str | None] = mapped_column(String(128))  # officer id, or the resident's
    note: Mapped[str] = mapped_column(String(200), default="")


class SlotFill(Base):
    """How many places of one service's slot are taken (the row the capacity check locks)."""

    __tablename__ = "appointment_slots"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    service: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(Stamp, primary_key=True)
    taken: Mapped[int] = mapped_column(default=0)


class ClosedDay(Base):
    """A day an officer closed the post for appointments (training, a duty elsewhere ...)."""

    __tablename__ = "appointment_closed_days"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    closed_by: Mapped[str] = mapped_column(String(128))
    closed_at: Mapped[datetime] = mapped_column(Stamp)


async def take_place(session: AsyncSession, bot: str, service: str, slot_start: datetime, capacity: int) -> bool:
    """Take one place of the slot if one is free; False when it is full. Atomic on both databases."""
    insert = insert_for(session)
    await session.execute(insert(SlotFill).values(bot=bot, service=service, slot_start=slot_start, taken=0)
                          .on_conflict_do_nothing())
    result = await session.execute(
        update(SlotFill)
        .where(SlotFill.bot == bot, SlotFill.service == service, SlotFill.slot_start == slot_start,
               SlotFill.taken < capacity)
        .values(taken=SlotFill.taken + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def free_place(session: AsyncSession, bot: str, service: str, slot_start: datetime) -> None:
    await session.execute(
        update(SlotFill)
        .where(SlotFill.bot == bot, SlotFill.service == service, SlotFill.slot_start == slot_start,
               SlotFill.taken > 0)
        .values(taken=SlotFill.taken - 1)
        .execution_options(synchronize_session=False))


async def taken_between(session: AsyncSession, bot: str, service: str, start: datetime,
                        end: datetime) -> dict[datetime, int]:
    rows = await session.execute(select(SlotFill.slot_start, SlotFill.taken).where(
        SlotFill.bot == bot, SlotFill.service == service, SlotFill.slot_start >= start, SlotFill.slot_start < end))
    return {start_: taken for start_, taken in rows}


async def closed_days(session: AsyncSession, bot: str, start: date, end: date) -> dict[date, str]:
    rows = await session.execute(select(ClosedDay.day, ClosedDay.reason).where(
        ClosedDay.bot == bot, ClosedDay.day >= start, ClosedDay.day <= end))
    return {d: reason for d, reason in rows}


async def active_booking(session: AsyncSession, bot: str, contact_id: str, service: str) -> Booking | None:
    return (await session.execute(select(Booking).where(
        Booking.bot == bot, Booking.contact_id == contact_id, Booking.service == service,
        Booking.status == BOOKED))).scalar_one_or_none()


async def by_code(session: AsyncSession, bot: str, code: str) -> Booking | None:
    return (await session.execute(select(Booking).where(Booking.bot == bot, Booking.code == code))).scalar_one_or_none()


async def bookings_of(session: AsyncSession, bot: str, *, contact_id: str | None = None,
                      day_from: date | None = None, day_to: date | None = None,
                      status: str | None = None) -> list[Booking]:
    q = select(Booking).where(Booking.bot == bot)
    if contact_id is not None:
        q = q.where(Booking.contact_id == contact_id)
    if day_from is not None:
        q = q.where(Booking.day >= day_from)
    if day_to is not None:
        q = q.where(Booking.day <= day_to)
    if status is not None:
        q = q.where(Booking.status == status)
    return list((await session.execute(q.order_by(Booking.slot_start, Booking.id))).scalars())


async def booked_between(session: AsyncSession, bot: str, since: datetime,
                         until: datetime) -> list[tuple[Booking, str | None]]:
    """Bookings made in [since, until), oldest first, each with the name of whoever closed it
    (a console account's name when closed on the page; None: still booked, or a contact the bot no
    longer knows)."""
    rows = await session.execute(
        select(Booking, Contact.name)
        .outerjoin(Contact, and_(Contact.bot == Booking.bot, Contact.id == Booking.closed_by))
        .where(Booking.bot == bot, Booking.created_at >= since, Booking.created_at < until)
        .order_by(Booking.created_at, Booking.id))
    return [(booking, name if name is not None else account_of(booking.closed_by)) for booking, name in rows]
