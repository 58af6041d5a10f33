"""The booking dialog, in private chat: service → day → slot → name → mobile → summary → confirm.

Residents answer as they talk: a number, "明天", "后天上午十点" (fills the day and the time), "随便"
(the earliest free), "更多" (the next six choices). An answer that cannot be used gets one short
line, never the whole list again. 改约 enters at "day" with the name and mobile already known,
and keeps the booking code. The mobile number is kept encrypted in the dialog state (stored).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot import timewords
from bot.context import Context
from bot.masking import mask_phone
from bot.plugin import END, Reask
from handlers.appointments import bookings
from handlers.appointments.bookings import already_text, free_days, free_slots, service_of
from handlers.appointments.config import ServiceConfig
from handlers.appointments.parse import pick_number, read_mobile, read_name, says_yes, wants_more
from handlers.appointments.plugin import plugin
from handlers.appointments.slots import Slot, find_service, in_part, slot_times
from handlers.appointments.texts import TEXTS, day_label, materials_of, place_of, when_label
from storage import appointments as store
from storage.appointments import BOOKED, Booking

PAGE = 6  # choices shown at once: a phone screen, an old person's patience

booking = plugin.dialog("booking", title="预约", start_word="预约")


def _service(ctx: Context, data: dict) -> ServiceConfig | None:
    return service_of(ctx.app, data.get("service"))


def page_of(lines: list[str], page: int) -> str:
    """At most six numbered lines (numbers run on across pages), then how to see the rest."""
    start = (page * PAGE) % max(len(lines), 1)
    shown = [f"{i}. {line}" for i, line in enumerate(lines, 1)][start:start + PAGE]
    left = len(lines) - start - len(shown)
    return "\n".join(shown + ([TEXTS["more"].format(n=left)] if left > 0 else []))


def _short_day(day: date, today: date) -> str:
    words = {0: "今天", 1: "明天", 2: "后天"}
    return words.get((day - today).days) or f"{day.month}月{day.day}日"


async def start_booking(ctx: Context, what: str = "") -> None:
    """预约 (and 预约居住证): in private chat, into the dialog at the first question not yet answered."""
    if not ctx.is_private:
        await ctx.reply(TEXTS["group_hint"])
        return
    if not ctx.app.config.services:
        await ctx.reply(TEXTS["no_services"])
        return
    row = await ctx.app.dialogs.current(ctx.session, ctx.message)
    if row is not None and row.dialog == "booking" and ctx.app.dialogs.is_active(ctx.message) and not what.strip():
        await booking.states[row.state].prompt(ctx, {k: v for k, v in row.data.items() if not k.startswith("_")})
        return  # already booking: go on where they are, nothing thrown away
    service = find_service(ctx.app.config.services, what) if what.strip() else None
    if service is None:
        await ctx.start_dialog("booking", "service")
        return
    existing = await store.active_booking(ctx.session, ctx.app.name, ctx.sender.id, service.name)
    if existing is not None:
        await ctx.reply(already_text(ctx.app, existing))
        return
    await ctx.start_dialog("booking", "day", {"service": service.name})


# ---- service ------------------------------------------------------------------------------------

async def ask_service(ctx: Context, data: dict) -> None:
    names = [s.name for s in ctx.app.config.services]
    await ctx.reply(TEXTS["ask_service"].format(choices=page_of(names, data.get("page", 0))))


async def help_service(ctx: Context, data: dict) -> str:
    return TEXTS["help_service"].format(first=ctx.app.config.services[0].name)


@booking.state("service", prompt=ask_service, label="正在选办理事项", help=help_service)
async def got_service(ctx: Context, data: dict, text: str):
    services = ctx.app.config.services
    if wants_more(text):
        data["page"] = data.get("page", 0) + 1
        return "service"
    index = pick_number(text, len(services))
    service = services[index] if index is not None else find_service(services, text)
    if service is None:
        return Reask(TEXTS["bad_service"])
    existing = await store.active_booking(ctx.session, ctx.app.name, ctx.sender.id, service.name)
    if existing is not None:
        await ctx.reply(already_text(ctx.app, existing))
        return END
    data.pop("page", None)
    data["service"] = service.name
    moment = _moment(ctx, text)
    if isinstance(moment, timewords.Moment) and moment.day:  # 居住证，明天上午 : the day too
        result = await _take_day(ctx, data, moment)
        if isinstance(result, Reask):
            data["note"] = result.hint
            return "day"
        return result
    return "day"


# ---- day ----------------------------------------------------------------------------------------

async def _days(ctx: Context, data: dict) -> list[tuple[date, int]]:
    return await free_days(ctx.app, ctx.session, _service(ctx, data))


def _day_example(days: list[tuple[date, int]], today: date) -> str:
    """明天”或“12月9日: two of the days really open, said as people say them."""
    if not days:
        return "明天"
    near, far = days[min(1, len(days) - 1)][0], days[min(2, len(days) - 1)][0]
    later = f"{far.month}月{far.day}日"
    return _short_day(near, today) if near == far else f"{_short_day(near, today)}”或“{later}"


def _note(data: dict) -> str:
    """A line said before the next question (随便 -> 最早的是…), in the same message."""
    return data["note"] + "\n" if data.get("note") else ""


async def ask_day(ctx: Context, data: dict) -> None:
    service, days = _service(ctx, data), await _days(ctx, data)
    if not days:
        await ctx.reply(TEXTS["no_days"].format(days=ctx.app.config.appointments.days_ahead, service=service.name))
        return
    lines = [TEXTS["day_choice"].format(day=day_label(d), n=n) for d, n in days]
    await ctx.reply(_note(data) + TEXTS["ask_day"].format(
        service=service.name, example=_day_example(days, ctx.now.date()), choices=page_of(lines, data.get("page", 0))))


async def help_day(ctx: Context, data: dict) -> str:
    days = await _days(ctx, data)
    first = day_label(days[0][0]) if days else "最近的一天"
    return TEXTS["help_day"].format(first=first, example=_day_example(days, ctx.now.date()))


def _moment(ctx: Context, text: str) -> timewords.Moment | Reask:
    try:
        return timewords.read(text, ctx.now.date())
    except timewords.DateOutOfRange as error:
        return Reask(str(error), understood=True)


@booking.state("day", prompt=ask_day, label="正在选日子", help=help_day)
async def got_day(ctx: Context, data: dict, text: str):
    data.pop("note", None)
    days = await _days(ctx, data)
    if wants_more(text):
        data["page"] = data.get("page", 0) + 1
        return "day"
    index = pick_number(text, len(days))
    if index is not None:
        data.pop("page", None)
        data["day"], data["part"] = days[index][0].isoformat(), None
        return "slot"
    moment = _moment(ctx, text)
    if isinstance(moment, Reask):
        return moment
    example = _day_example(days, ctx.now.date())
    if moment.day is None and moment.vague and days:
        data["note"] = TEXTS["vague_day"].format(day=day_label(days[0][0]))
        data.pop("page", None)
        data["day"], data["part"] = days[0][0].isoformat(), moment.part
        return "slot"
    if moment.day is None:
        if moment.time or moment.part:
            return Reask(TEXTS["day_first"].format(example=example), understood=True)
        return Reask(TEXTS["bad_day"].format(example=example))
    return await _take_day(ctx, data, moment)


async def _take_day(ctx: Context, data: dict, moment: timewords.Moment):
    """A day said (with a time, perhaps): on to the slot, or straight past it when the time is free."""
    days = [d for d, _ in await _days(ctx, data)]
    if moment.day not in days:
        nearest = "、".join(day_label(d) for d in days[:3]) or TEXTS["no_alternatives"]
        data["page"] = 0
        return Reask(TEXTS["day_off"].format(day=day_label(moment.day), nearest=nearest), understood=True)
    data.pop("page", None)
    data["day"], data["part"] = moment.day.isoformat(), _part(moment.part)
    if moment.time is None and not moment.vague:
        return "slot"
    result = await _take_time(ctx, data, moment)
    if isinstance(result, Reask):  # 后天十点 but ten is taken: the day stands, the times follow
        data["note"] = result.hint
        return "slot"
    return result


def _part(part: str | None) -> str | None:
    return {"中午": "下午", "晚上": "下午", "凌晨": "上午"}.get(part, part) if part else None


# ---- slot ---------------------------------------------------------------------------------------

async def _slots_for(ctx: Context, data: dict) -> list[Slot]:
    slots = await free_slots(ctx.app, ctx.session, _service(ctx, data), date.fromisoformat(data["day"]))
    return in_part(slots, data.get("part"))


def _slot_example(slots: list[Slot]) -> str:
    if not slots:
        return "10点半"
    at = slots[min(1, len(slots) - 1)].start
    hour = at.hour - 12 if at.hour > 12 else at.hour
    return f"{'下午' if at.hour >= 12 else ''}{hour}点{'半' if at.minute == 30 else (f'{at.minute}分' if at.minute else '')}"


async def ask_slot(ctx: Context, data: dict) -> None:
    slots = await _slots_for(ctx, data)
    day, part = day_label(date.fromisoformat(data["day"])), data.get("part") or ""
    if not slots:
        await ctx.reply(TEXTS["no_slots"].format(day=day, part=part))
        return
    lines = [TEXTS["slot_choice"].format(start=s.start, end=s.end, free=s.free) for s in slots]
    await ctx.reply(_note(data) + TEXTS["ask_slot"].format(
        day=day, part=part, example=_slot_example(slots), choices=page_of(lines, data.get("page", 0))))


async def help_slot(ctx: Context, data: dict) -> str:
    slots = await _slots_for(ctx, data)
    first = f"{slots[0].start:%H:%M}" if slots else "第一个时间"
    return TEXTS["help_slot"].format(first=first, example=_slot_example(slots))


@booking.state("slot", prompt=ask_slot, label="正在选时间", help=help_slot)
async def got_slot(ctx: Context, data: dict, text: str):
    data.pop("note", None)
    slots = await _slots_for(ctx, data)
    if wants_more(text):
        data["page"] = data.get("page", 0) + 1
        return "slot"
    index = pick_number(text, len(slots))
    if index is not None:
        return _chosen(data, slots[index])
    moment = _moment(ctx, text)
    if isinstance(moment, Reask):
        return moment
    if moment.day is not None and moment.day.isoformat() != data["day"]:
        return await _take_day(ctx, data, moment)  # 还是后天吧: another day
    if moment.time is None and moment.part and not moment.vague:  # 下午: that half of the day's times
        data["part"], data["page"] = _part(moment.part), 0
        return "slot"
    if moment.time is None and not moment.vague:
        return Reask(TEXTS["bad_slot"].format(example=_slot_example(slots)))
    return await _take_time(ctx, data, moment)


async def _take_time(ctx: Context, data: dict, moment: timewords.Moment):
    """A time said (or 随便): that slot when free; else the nearest free ones, said in one line."""
    day = date.fromisoformat(data["day"])
    service = _service(ctx, data)
    free = await free_slots(ctx.app, ctx.session, service, day)
    if moment.time is None:  # 随便 / 最早
        if not free:
            return "slot"
        await ctx.reply(TEXTS["vague_slot"].format(at=f"{day_label(day)}{free[0].start:%H:%M}"))
        return _chosen(data, free[0])
    data.pop("note", None)
    at = timewords.office_time(moment.time, moment.part)
    slot = next((s for s in free if s.start.time() <= at < s.end.time()), None)
    if slot is not None:
        return _chosen(data, slot)
    data["part"] = None
    said = f"{day_label(day)}{at:%H:%M}"
    if any(start.time() <= at < end.time() for start, end in slot_times(service, day, ctx.app.clock.tz)):
        nearest = sorted(free, key=lambda s: abs(_minutes(s.start.time()) - _minutes(at)))[:3]
        shown = "、".join(f"{s.start:%H:%M}" for s in sorted(nearest, key=lambda s: s.start)) or "这天没有了"
        return Reask(TEXTS["slot_taken"].format(at=said, nearest=shown), understood=True)
    hours = "、".join(f"{h.start:%H:%M}-{h.end:%H:%M}" for h in service.hours)
    return Reask(TEXTS["slot_closed"].format(at=said, hours=hours, example=_slot_example(free)), understood=True)


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _chosen(data: dict, slot: Slot) -> str:
    data.pop("page", None)
    data["slot"] = slot.start.isoformat()
    return "confirm" if data.get("name") and data.get("phone_enc") else "name"  # already given: don't ask again


# ---- name, mobile -------------------------------------------------------------------------------

async def ask_name(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["ask_name"])


async def help_name(ctx: Context, data: dict) -> str:
    return TEXTS["help_name"]


@booking.state("name", prompt=ask_name, label="正在填姓名", help=help_name)
async def got_name(ctx: Context, data: dict, text: str):
    name = read_name(text)
    if name is None:
        return Reask(TEXTS["bad_name"])
    data["name"] = name
    return "phone" if not data.get("phone_enc") else "confirm"


async def ask_phone(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["ask_phone"])


async def help_phone(ctx: Context, data: dict) -> str:
    return TEXTS["help_phone"]


@booking.state("phone", prompt=ask_phone, label="正在填手机号", help=help_phone)
async def got_phone(ctx: Context, data: dict, text: str):
    phone = read_mobile(text)
    if phone is None:
        return Reask(TEXTS["bad_phone"])
    data["phone_enc"] = ctx.app.vault.encrypt(phone)  # dialog state is stored: never the plain number
    return "confirm"


# ---- confirm ------------------------------------------------------------------------------------

async def ask_confirm(ctx: Context, data: dict) -> None:
    service = _service(ctx, data)
    start = datetime.fromisoformat(data["slot"])
    end = start + timedelta(minutes=service.slot_minutes)
    await ctx.reply(TEXTS["summary"].format(
        service=service.name, when=when_label(start, end, ctx.app.clock.tz),
        place=place_of(service, ctx.app.config.bot.police_post), name=data["name"],
        phone=mask_phone(ctx.app.vault.decrypt(data["phone_enc"])), materials=materials_of(service)))


async def help_confirm(ctx: Context, data: dict) -> str:
    return TEXTS["help_confirm"]


CHANGE_WORDS = {"时间": "day", "日子": "day", "哪天": "day", "名字": "name", "姓名": "name", "手机": "phone",
                "电话": "phone", "号码": "phone"}


@booking.state("confirm", prompt=ask_confirm, label="就差您回复“确认”", help=help_confirm,
               resume="回复“确认”继续。")
async def got_confirm(ctx: Context, data: dict, text: str):
    if not says_yes(text):
        if "改" in text or "换" in text:  # 改时间 / 换个日子 / 改一下手机号
            return next((state for word, state in CHANGE_WORDS.items() if word in text), "day")
        return Reask(TEXTS["bad_confirm"])
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
    if old is not None:  # 改约: the same booking (and code) at the new time; the old place given back
        await store.free_place(ctx.session, app.name, old.service, old.slot_start)
        old.day, old.slot_start, old.slot_end = start.date(), start, start + timedelta(minutes=service.slot_minutes)
        old.note = "改约"
        await _confirm(ctx, service, old, rescheduled=True)
        return END
    new = Booking(bot=app.name, code=await bookings.unused_code(ctx), service=service.name, day=start.date(),
                  slot_start=start, slot_end=start + timedelta(minutes=service.slot_minutes),
                  contact_id=ctx.sender.id, name=data["name"], phone_enc=data["phone_enc"],
                  status=BOOKED, created_at=ctx.now)
    ctx.session.add(new)
    await _confirm(ctx, service, new, rescheduled=False)
    return END


async def _rescheduled(ctx: Context, data: dict) -> Booking | None:
    """The booking this dialog moves (改约), while it is still booked; else None: a new booking."""
    code = data.get("reschedule")
    old = await store.by_code(ctx.session, ctx.app.name, code) if code else None
    return old if old is not None and old.status == BOOKED else None  # cancelled meanwhile (a closed day)


def reminders_promised(ctx: Context, start: datetime) -> str:
    """Only the reminders that will really come: none on the evening before a same-day booking,
    none an hour before when that hour has begun."""
    settings, tz = ctx.app.config.appointments, ctx.app.clock.tz
    local = start.astimezone(tz)
    evening = datetime.combine(local.date() - timedelta(days=1), settings.reminder_evening, tz)
    before = timedelta(minutes=settings.reminder_before_minutes)
    has_evening, has_hour = ctx.now < evening, bool(before) and ctx.now <= start - before
    minutes = settings.reminder_before_minutes
    before_text = "一小时" if minutes == 60 else f"{minutes}分钟"
    key = {(True, True): "remind_both", (True, False): "remind_evening", (False, True): "remind_hour"}.get(
        (has_evening, has_hour), "remind_none")
    return TEXTS[key].format(before=before_text)


async def _confirm(ctx: Context, service: ServiceConfig, b: Booking, *, rescheduled: bool) -> None:
    when = bookings.when_of(ctx.app, b)
    reminders = reminders_promised(ctx, b.slot_start)
    if rescheduled:
        await ctx.count("appointments_rescheduled", key=service.name)
        await ctx.reply(TEXTS["rescheduled"].format(code=b.code, when=when, reminders=reminders).strip())
        return
    await ctx.count("appointments_booked", key=service.name)
    await ctx.reply(TEXTS["booked"].format(code=b.code, service=service.name, when=when,
                                           place=place_of(service, ctx.app.config.bot.police_post),
                                           materials=materials_of(service), reminders=reminders))


async def _goodbye(ctx: Context, data: dict) -> str | None:
    """Leaving a 改约 keeps the booking as it was: say so, and how it stands."""
    old = await _rescheduled(ctx, data)
    if old is None:
        return None
    return TEXTS["reschedule_kept"].format(when=bookings.when_of(ctx.app, old), code=old.code)


booking.on_cancel = _goodbye
