"""The booking dialog, in private chat: service → day → slot → name → mobile → summary → confirm.

改约 enters it at "day" with the name and mobile already known, and skips asking them again.
The mobile number is kept encrypted in the dialog state, which is stored.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.context import Context
from bot.masking import mask_phone
from bot.plugin import END
from handlers.appointments import bookings
from handlers.appointments.bookings import already_text, free_days, free_slots, service_of
from handlers.appointments.config import ServiceConfig
from handlers.appointments.parse import YES_WORDS, day_part, parse_day, pick_number, read_mobile, read_name
from handlers.appointments.plugin import plugin
from handlers.appointments.slots import Slot, find_service, in_part, pick_slot
from handlers.appointments.texts import TEXTS, day_label, materials_of, numbered, place_of, when_label
from storage import appointments as store
from storage.appointments import BOOKED, CANCELLED, Booking

booking = plugin.dialog("booking")


def _service(ctx: Context, data: dict) -> ServiceConfig | None:
    return service_of(ctx.app, data.get("service"))


async def start_booking(ctx: Context, what: str = "") -> None:
    """预约 (and 预约居住证): in private chat, into the dialog at the first question not yet answered."""
    if not ctx.is_private:
        await ctx.reply(TEXTS["group_hint"])
        return
    if not ctx.app.config.services:
        await ctx.reply(TEXTS["no_services"])
        return
    service = find_service(ctx.app.config.services, what) if what.strip() else None
    if service is None:
        await ctx.start_dialog("booking", "service")
        return
    existing = await store.active_booking(ctx.session, ctx.app.name, ctx.sender.id, service.name)
    if existing is not None:
        await ctx.reply(already_text(ctx.app, existing))
        return
    await ctx.start_dialog("booking", "day", {"service": service.name})


async def ask_service(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["ask_service"].format(choices=numbered([s.name for s in ctx.app.config.services])))


@booking.state("service", prompt=ask_service)
async def got_service(ctx: Context, data: dict, text: str) -> str | None:
    services = ctx.app.config.services
    index = pick_number(text, len(services))
    service = services[index] if index is not None else find_service(services, text)
    if service is None:
        await ctx.reply(TEXTS["not_understood"])
        return None
    existing = await store.active_booking(ctx.session, ctx.app.name, ctx.sender.id, service.name)
    if existing is not None:
        await ctx.reply(already_text(ctx.app, existing))
        return END
    data["service"] = service.name
    return "day"


async def ask_day(ctx: Context, data: dict) -> None:
    service = _service(ctx, data)
    days = await free_days(ctx.app, ctx.session, service)
    if not days:
        await ctx.reply(TEXTS["no_days"].format(days=ctx.app.config.appointments.days_ahead, service=service.name))
        return
    choices = numbered([TEXTS["day_choice"].format(day=day_label(d), n=n) for d, n in days])
    await ctx.reply(TEXTS["ask_day"].format(service=service.name, choices=choices))


@booking.state("day", prompt=ask_day)
async def got_day(ctx: Context, data: dict, text: str) -> str | None:
    days = [d for d, _ in await free_days(ctx.app, ctx.session, _service(ctx, data))]
    index = pick_number(text, len(days))
    day = days[index] if index is not None else parse_day(text, ctx.now.date())
    if day is None or day not in days:
        await ctx.reply(TEXTS["not_understood"] if day is None else TEXTS["day_not_open"].format(day=day_label(day)))
        return None
    data["day"], data["part"] = day.isoformat(), day_part(text)
    return "slot"


async def _slots_for(ctx: Context, data: dict) -> list[Slot]:
    slots = await free_slots(ctx.app, ctx.session, _service(ctx, data), date.fromisoformat(data["day"]))
    return in_part(slots, data.get("part"))


async def ask_slot(ctx: Context, data: dict) -> None:
    slots = await _slots_for(ctx, data)
    day, part = day_label(date.fromisoformat(data["day"])), data.get("part") or ""
    if not slots:
        await ctx.reply(TEXTS["no_slots"].format(day=day, part=part))
        return
    choices = numbered([TEXTS["slot_choice"].format(start=s.start, end=s.end, free=s.free) for s in slots])
    await ctx.reply(TEXTS["ask_slot"].format(day=day, part=part, choices=choices))


@booking.state("slot", prompt=ask_slot)
async def got_slot(ctx: Context, data: dict, text: str) -> str | None:
    chosen = pick_slot(await _slots_for(ctx, data), text)
    if chosen is None:
        await ctx.reply(TEXTS["not_understood"])
        return None
    data["slot"] = chosen.start.isoformat()
    return "confirm" if data.get("name") and data.get("phone_enc") else "name"  # already given: don't ask again


async def ask_name(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["ask_name"])


@booking.state("name", prompt=ask_name)
async def got_name(ctx: Context, data: dict, text: str) -> str | None:
    name = read_name(text)
    if name is None:
        await ctx.reply(TEXTS["bad_name"])
        return None
    data["name"] = name
    return "phone"


async def ask_phone(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["ask_phone"])


@booking.state("phone", prompt=ask_phone)
async def got_phone(ctx: Context, data: dict, text: str) -> str | None:
    phone = read_mobile(text)
    if phone is None:
        await ctx.reply(TEXTS["bad_phone"])
        return None
    data["phone_enc"] = ctx.app.vault.encrypt(phone)  # dialog state is stored: never the plain number
    return "confirm"


async def ask_confirm(ctx: Context, data: dict) -> None:
    service = _service(ctx, data)
    start = datetime.fromisoformat(data["slot"])
    end = start + timedelta(minutes=service.slot_minutes)
    await ctx.reply(TEXTS["summary"].format(
        service=service.name, when=when_label(start, end, ctx.app.clock.tz),
        place=place_of(service, ctx.app.config.bot.police_post), name=data["name"],
        phone=mask_phone(ctx.app.vault.decrypt(data["phone_enc"])), materials=materials_of(service)))


@booking.state("confirm", prompt=ask_confirm)
async def got_confirm(ctx: Context, data: dict, text: str) -> str | None:
    if text.strip() not in YES_WORDS:
        await ctx.reply(TEXTS["not_understood"])
        return None
    return await book(ctx, data)


async def book(ctx: Context, data: dict) -> str:
    """Take the place and write the booking; on a full slot, back to the slot (or day) choice."""
    app, service = ctx.app, _service(ctx, data)
    start = datetime.fromisoformat(data["slot"])
    old = await _rescheduled(ctx, data)
    if old is None:
        existing = await store.active_booking(ctx.session, app.name, ctx.sender.id, service.name)
        if existing is not None:
            await ctx.reply(already_text(app, existing))
            return END
    if not await store.take_place(ctx.session, app.name, service.name, start, service.capacity):
        await ctx.reply(TEXTS["slot_full"])
        return "slot" if await _slots_for(ctx, data) else "day"
    if old is not None:
        await bookings.close(ctx, old, CANCELLED, note="改约")
        await ctx.session.flush()  # the old row stops being active before the new one exists
    new = Booking(bot=app.name, code=await bookings.unused_code(ctx), service=service.name, day=start.date(),
                  slot_start=start, slot_end=start + timedelta(minutes=service.slot_minutes),
                  contact_id=ctx.sender.id, name=data["name"], phone_enc=data["phone_enc"],
                  status=BOOKED, created_at=ctx.now)
    ctx.session.add(new)
    await _confirm(ctx, service, new, rescheduled=old is not None)
    return END


async def _rescheduled(ctx: Context, data: dict) -> Booking | None:
    """The booking this dialog moves (改约), while it is still booked; else None: a new booking."""
    code = data.get("reschedule")
    old = await store.by_code(ctx.session, ctx.app.name, code) if code else None
    return old if old is not None and old.status == BOOKED else None  # cancelled meanwhile (a closed day)


async def _confirm(ctx: Context, service: ServiceConfig, new: Booking, *, rescheduled: bool) -> None:
    when = bookings.when_of(ctx.app, new)
    if rescheduled:
        await ctx.count("appointments_rescheduled", key=service.name)
        await ctx.reply(TEXTS["rescheduled"].format(code=new.code, when=when))
        return
    await ctx.count("appointments_booked", key=service.name)
    await ctx.reply(TEXTS["booked"].format(code=new.code, service=service.name, when=when,
                                           place=place_of(service, ctx.app.config.bot.police_post),
                                           materials=materials_of(service)))
