"""Reminders: the evening before (`reminder_evening`) and `reminder_before_minutes` before the slot.

Two scheduler jobs, replaced at every start from the config; what was due while the bot was down
is caught up at start, and the reminders' dedup keys make a second run harmless."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.messages import Outgoing
from handlers.appointments.bookings import service_of, when_of
from handlers.appointments.plugin import plugin
from handlers.appointments.slots import reminder_times
from handlers.appointments.texts import TEXTS, materials_of, place_of
from storage import appointments as store
from storage.appointments import BOOKED, Booking

EVENING_JOB, HOUR_JOB = "appointments:evening", "appointments:hour"


def hour_trigger(app) -> OrTrigger | None:
    """One trigger firing `reminder_before_minutes` before every slot start any service has."""
    before = timedelta(minutes=app.config.appointments.reminder_before_minutes)
    if not before or not app.config.services:
        return None
    return OrTrigger([CronTrigger(hour=t.hour, minute=t.minute, timezone=app.clock.tz)
                      for t in reminder_times(app.config.services, before)])


def reminder_text(app, b: Booking, key: str) -> str:
    service = service_of(app, b.service)
    return TEXTS[key].format(
        service=b.service, code=b.code, when=when_of(app, b), time=f"{b.slot_start.astimezone(app.clock.tz):%H:%M}",
        place=place_of(service, app.config.bot.police_post), materials=materials_of(service))


def _key(b: Booking, which: str) -> str:
    """Once per booking and time: a booking moved by 改约 (same row, same code) is reminded again."""
    return f"appt:{b.id}:{b.slot_start.astimezone(timezone.utc):%Y%m%d%H%M}:{which}"


@plugin.job("appointments-evening")
async def evening_reminders(app, payload: dict, due: datetime) -> None:
    tomorrow = due.astimezone(app.clock.tz).date() + timedelta(days=1)
    async with app.transaction() as session:
        for b in await store.bookings_of(session, app.name, day_from=tomorrow, day_to=tomorrow, status=BOOKED):
            await app.send(session, Outgoing(None, b.contact_id, reminder_text(app, b, "reminder_evening")),
                           dedup_key=_key(b, "evening"), source="reminder")


@plugin.job("appointments-hour")
async def hour_reminders(app, payload: dict, due: datetime) -> None:
    before = timedelta(minutes=app.config.appointments.reminder_before_minutes)
    horizon = due + before
    async with app.transaction() as session:
        rows = await store.bookings_of(session, app.name, day_from=due.astimezone(app.clock.tz).date(),
                                       day_to=horizon.astimezone(app.clock.tz).date(), status=BOOKED)
        for b in rows:
            # Booked within the hour: the confirmation just told them; no "one hour before" then.
            if due < b.slot_start <= horizon and b.created_at <= b.slot_start - before:
                await app.send(session, Outgoing(None, b.contact_id, reminder_text(app, b, "reminder_hour")),
                               dedup_key=_key(b, "hour"), source="reminder")


@plugin.on_start
async def setup(app) -> None:
    evening = app.config.appointments.reminder_evening
    await app.scheduler.add(EVENING_JOB, "appointments-evening", {},
                            CronTrigger(hour=evening.hour, minute=evening.minute, timezone=app.clock.tz),
                            grace=timedelta(hours=3))
    trigger = hour_trigger(app)
    if trigger is None:
        await app.scheduler.remove(HOUR_JOB)
    else:
        await app.scheduler.add(HOUR_JOB, "appointments-hour", {}, trigger, grace=timedelta(minutes=30))
    await catch_up(app, hourly=trigger is not None)


async def catch_up(app, *, hourly: bool) -> None:
    """Changed hours or reminder times replace the jobs (next run from now): send what was due
    while the bot was down."""
    evening = app.config.appointments.reminder_evening
    now = app.clock.now()
    evening_due = now.replace(hour=evening.hour, minute=evening.minute, second=0, microsecond=0)
    if evening_due <= now <= evening_due + timedelta(hours=3):
        await evening_reminders(app, {}, evening_due)
    if hourly:
        await hour_reminders(app, {}, now)
