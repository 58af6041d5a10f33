"""Bookings as the database holds them: the diary slots.py reckons with, a fresh code, closing a
booking (its place given back), and how a booking is shown."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.masking import mask_phone
from handlers.appointments import slots
from handlers.appointments.codes import new_code
from handlers.appointments.config import ServiceConfig
from handlers.appointments.slots import Diary, Slot
from handlers.appointments.texts import TEXTS, when_label
from storage import appointments as store
from storage.appointments import CANCELLED, Booking


async def diary(app, session: AsyncSession, service: ServiceConfig, first: date, last: date) -> Diary:
    """The places taken and the days closed of `service` from `first` to `last`, as of now."""
    tz = app.clock.tz
    since = datetime.combine(first, time(), tz)
    until = datetime.combine(last + timedelta(days=1), time(), tz)
    taken = await store.taken_between(session, app.name, service.name, since, until)
    closed = await store.closed_days(session, app.name, first, last)
    return Diary(tz, app.clock.now(), {start.astimezone(tz): n for start, n in taken.items()}, closed)


async def free_days(app, session: AsyncSession, service: ServiceConfig) -> list[tuple[date, int]]:
    days_ahead = app.config.appointments.days_ahead
    today = app.clock.now().date()
    seen = await diary(app, session, service, today, today + timedelta(days=days_ahead))
    return slots.free_days(service, seen, app.calendar, days_ahead)


async def free_slots(app, session: AsyncSession, service: ServiceConfig, day: date) -> list[Slot]:
    return slots.free_slots(service, day, await diary(app, session, service, day, day))


async def unused_code(ctx: Context) -> str:
    while True:
        code = new_code(ctx.app.rng)
        if await store.by_code(ctx.session, ctx.app.name, code) is None:
            return code


async def close(ctx: Context, b: Booking, status: str, note: str = "") -> None:
    """The booking stops being "booked" now, by the sender; a cancelled one gives its place back."""
    b.status, b.closed_at, b.closed_by, b.note = status, ctx.now, ctx.sender.id, note[:200]
    if status == CANCELLED:
        await store.free_place(ctx.session, ctx.app.name, b.service, b.slot_start)


def service_of(app, name: str | None) -> ServiceConfig | None:
    """The configured service of that name; None once it has left the config."""
    return next((s for s in app.config.services if s.name == name), None)


def when_of(app, b: Booking) -> str:
    return when_label(b.slot_start, b.slot_end, app.clock.tz)


def masked_phone(app, b: Booking) -> str:
    return mask_phone(app.vault.decrypt(b.phone_enc)) if b.phone_enc else ""


def already_text(app, b: Booking) -> str:
    return TEXTS["already"].format(service=b.service, when=when_of(app, b), code=b.code)
