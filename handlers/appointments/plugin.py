"""Appointments (预约办理): residents book a service slot in private chat; officers run the day.

Resident: 预约 → service → day → slot → name → mobile → summary → confirm, then 我的预约,
取消预约 CODE, 改约 CODE. Officer/staff (private): /预约 [今天|明天|DATE], /预约 完成|爽约 CODE,
/预约 关闭|开放 DATE [原因], /预约 导出 FROM TO. Reminders the evening before and an hour before.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.config import WEEKDAYS
from bot.context import Context
from bot.masking import is_mobile, mask_phone
from bot.messages import Outgoing
from bot.plugin import END, STAFF, Plugin
from bot.workcal import WorkCalendar, unknown_year_warning
from handlers.appointments.config import AppointmentSettings, ServiceConfig, check_services
from storage import appointments as store
from storage.appointments import BOOKED, CANCELLED, COMPLETED, NO_SHOW, Booking

log = logging.getLogger(__name__)

plugin = Plugin("appointments", config=AppointmentSettings, order=50)
plugin.config_section("services", list[ServiceConfig], [])
plugin.validator(check_services)
plugin.menu_item("私聊我说“预约”：预约到警务室办理居住证、身份证等业务")
plugin.menu_item("私聊我说“我的预约”：查看、取消或改约")

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed by phone
CODE_LENGTH = 6
WEEKDAY_NAMES = "一二三四五六日"

TEXTS = {
    "group_hint": "预约办理请先加我为好友，再私聊我发“预约”两个字。为保护您的个人信息，群里不办理预约。",
    "private_please": "这件事涉及您的个人信息，请私聊我办理。",
    "no_services": "目前警务室没有开放网上预约，请直接到警务室咨询。",
    "ask_service": "请问您要办理哪一项？回复数字或名称：\n{choices}\n（随时回复“取消”可以退出）",
    "ask_day": "{service}：请选择日子，回复数字，或说“明天”“12月8日”：\n{choices}",
    "no_days": "很抱歉，最近{days}天{service}都已约满或不办公。请过几天再来约，或回复“返回”换一项业务。",
    "ask_slot": "{day}{part}还有这些时间，回复数字或时间（如“9:30”“下午2点”）：\n{choices}",
    "no_slots": "{day}{part}已经没有空位了，请回复“返回”换一天。",
    "ask_name": "请告诉我办理人的姓名：",
    "bad_name": "姓名请用文字写，2到20个字，不要带数字。",
    "ask_phone": "请留一个手机号（11位数字），方便警务室联系您：",
    "bad_phone": "这个号码不对：手机号是11位数字，以1开头。请再输一次。",
    "summary": ("请核对您的预约：\n办理事项：{service}\n时间：{when}\n地点：{place}\n姓名：{name}\n手机：{phone}\n"
                "需要带：{materials}\n没问题请回复“确认”（或 1）；要修改回复“返回”；不约了回复“取消”。"),
    "not_understood": "没看明白您的选择。",
    "booked": ("预约成功！您的预约码是 {code}\n{service}，{when}\n地点：{place}\n请带好：{materials}\n"
               "前一天晚上和开始前一小时我会提醒您。\n要取消请发“取消预约 {code}”，改时间请发“改约 {code}”。"),
    "rescheduled": "改约成功！预约码 {code}，新的时间是 {when}。原来的时间已经为您取消。",
    "slot_full": "很抱歉，这个时间刚刚被别人约满了。请换一个时间：",
    "already": ("您已经约了{service}（{when}，预约码 {code}）。每项业务同时只能约一个时间。"
                "要换时间请发“改约 {code}”。"),
    "mine_none": "您目前没有预约。需要的话私聊我发“预约”。",
    "mine_head": "您的预约：",
    "mine_line": "· {code} {service}，{when}，{place}",
    "mine_tail": "取消请发“取消预约 预约码”，改时间请发“改约 预约码”。",
    "code_please": "请在后面加上预约码，例如“{verb} {example}”。不记得预约码可以发“我的预约”查看。",
    "no_such": "没有找到预约码 {code} 的有效预约。请发“我的预约”查看您的预约码。",
    "cancelled": "已为您取消预约 {code}（{service}，{when}）。需要时可以再发“预约”。",
    "reschedule_start": "好的，为您改约{service}（原来是{when}）。",
    "reminder_evening": ("温馨提醒：您明天{when}预约了{service}，预约码 {code}。\n地点：{place}\n"
                         "请带好：{materials}\n来不了请发“取消预约 {code}”，把位置让给别人。"),
    "reminder_hour": "温馨提醒：您预约的{service}一小时后（{time}）开始，预约码 {code}。地点：{place}。请带好：{materials}",
    "day_closed_notice": ("很抱歉，{day}警务室暂停办理预约业务{reason}。您预约的{service}（{when}，预约码 {code}）"
                          "已取消。\n{alternatives}\n请私聊我发“预约”重新约一个时间，给您添麻烦了。"),
    "alternatives": "最近还能约的日子：{days}。",
    "no_alternatives": "最近几天暂时都约满了，过几天再来约。",
}

STAFF_TEXTS = {
    "usage": ("用法：/预约 [今天|明天|日期] 查看名单；/预约 完成 预约码；/预约 爽约 预约码；"
              "/预约 关闭 日期 [原因]；/预约 开放 日期；/预约 导出 起始日期 结束日期"),
    "bad_date": "没看懂日期“{text}”。可以写 今天、明天、12月8日、2026-12-08。",
    "list_none": "{day}没有预约。{closed}",
    "list_head": "{day}的预约（共{n}个）：{closed}",
    "list_line": "{time} {service} {name} {phone} 码{code} {status}",
    "closed_mark": "（这一天已关闭：{reason}）",
    "marked": "已记录：{code} {name} {service} {when} → {status}。",
    "not_markable": "预约 {code} 现在是“{status}”，不能再改。",
    "closed": "已关闭 {day} 的预约{reason}。已通知{n}位预约了这天的居民。",
    "already_closed": "{day} 已经是关闭的。",
    "reopened": "已重新开放 {day} 的预约。",
    "not_closed": "{day} 本来就没有关闭。",
    "exported": "已导出 {start} 至 {end} 的接待服务登记簿，共{n}条：{path}",
    "bad_range": "请写起始和结束日期，例如：/预约 导出 2026-12-01 2026-12-31",
}
STATUS_NAMES = {BOOKED: "已预约", CANCELLED: "已取消", COMPLETED: "已办结", NO_SHOW: "爽约"}
YES_WORDS = frozenset({"1", "确认", "确定", "是", "是的", "好", "好的", "对", "可以", "提交", "没问题", "ok", "OK"})
REGISTER_COLUMNS = ["序号", "预约码", "办理事项", "预约日期", "预约时段", "姓名", "联系电话", "预约登记时间",
                    "状态", "办结/取消时间", "备注"]


# ---- opening days and slots ---------------------------------------------------------------------

@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    free: int


def calendar(app) -> WorkCalendar:
    return app.calendar


def service_named(app, text: str) -> ServiceConfig | None:
    text = text.strip()
    for s in app.config.services:
        if text == s.name or text in s.aliases:
            return s
    for s in app.config.services:  # "我要办居住证", "居住证签注"
        if any(word and word in text for word in (s.name, *s.aliases)):
            return s
    return None


def is_open(app, service: ServiceConfig, day: date, closed: dict[date, str]) -> bool:
    """Closed on public holidays and officer-closed days; a make-up workday (调休上班) is open for
    services that open every weekday; a weekend day listed in `days` is open unless closed."""
    if day in closed:
        return False
    weekday = WEEKDAYS[day.weekday()]
    workday = calendar(app).is_workday(day)
    if day.weekday() < 5:
        return workday and weekday in service.days
    if workday:
        return weekday in service.days or set(WEEKDAYS[:5]) <= set(service.days)
    return weekday in service.days


def slot_times(app, service: ServiceConfig, day: date) -> list[tuple[datetime, datetime]]:
    tz, step = app.clock.tz, timedelta(minutes=service.slot_minutes)
    times = []
    for hours in service.hours:
        start = datetime.combine(day, hours.start, tz)
        end = datetime.combine(day, hours.end, tz)
        while start + step <= end:
            times.append((start, start + step))
            start += step
    return times


async def free_slots(ctx_or_app, session, service: ServiceConfig, day: date) -> list[Slot]:
    app = getattr(ctx_or_app, "app", ctx_or_app)
    times = slot_times(app, service, day)
    if not times:
        return []
    taken = await store.taken_between(session, app.name, service.name, times[0][0], times[-1][1])
    now = app.clock.now()
    taken = {k.astimezone(app.clock.tz): v for k, v in taken.items()}
    return [Slot(s, e, service.capacity - taken.get(s, 0)) for s, e in times
            if s > now and taken.get(s, 0) < service.capacity]


async def free_days(app, session, service: ServiceConfig) -> list[tuple[date, int]]:
    today = app.clock.now().date()
    last = today + timedelta(days=app.config.appointments.days_ahead)
    closed = await store.closed_days(session, app.name, today, last)
    days = []
    for i in range(app.config.appointments.days_ahead + 1):
        day = today + timedelta(days=i)
        if is_open(app, service, day, closed):
            slots = await free_slots(app, session, service, day)
            if slots:
                days.append((day, sum(s.free for s in slots)))
    return days[: app.config.appointments.days_ahead]


# ---- words residents use --------------------------------------------------------------------------

def day_label(day: date) -> str:
    return f"{day.month}月{day.day}日（周{WEEKDAY_NAMES[day.weekday()]}）"


def when_label(app, start: datetime, end: datetime) -> str:
    start, end = start.astimezone(app.clock.tz), end.astimezone(app.clock.tz)
    return f"{day_label(start.date())}{start:%H:%M}-{end:%H:%M}"


_NUM = re.compile(r"^\s*(\d{1,2})\s*$")
_MONTH_DAY = re.compile(r"(?:(\d{4})[年\-/.])?(\d{1,2})[月\-/.](\d{1,2})[日号]?")
_DAY_ONLY = re.compile(r"^(\d{1,2})[日号]")
_WEEKDAY = re.compile(r"(下)?(?:周|星期|礼拜)([一二三四五六日天])")
RELATIVE = {"今天": 0, "明天": 1, "后天": 2, "大后天": 3}


def parse_day(text: str, today: date) -> date | None:
    text = text.strip()
    for word, n in sorted(RELATIVE.items(), key=lambda kv: -len(kv[0])):
        if text.startswith(word):
            return today + timedelta(days=n)
    if m := _MONTH_DAY.search(text):
        year = int(m[1]) if m[1] else today.year
        try:
            day = date(year, int(m[2]), int(m[3]))
        except ValueError:
            return None
        return day.replace(year=year + 1) if not m[1] and day < today - timedelta(days=31) else day
    if m := _WEEKDAY.search(text):
        target = "一二三四五六日天".index(m[2]) if m[2] != "天" else 6
        if m[1]:  # 下周二: Tuesday of next calendar week
            return today + timedelta(days=7 - today.weekday() + target)
        return today + timedelta(days=(target - today.weekday()) % 7 or 7)
    if m := _DAY_ONLY.match(text):
        try:
            day = today.replace(day=int(m[1]))
        except ValueError:
            return None
        return day if day >= today else None
    return None


def day_part(text: str) -> str | None:
    return next((p for p in ("上午", "下午") if p in text), None)


_CLOCK = re.compile(r"(上午|下午|早上|中午)?\s*(\d{1,2})(?:[:：点](\d{1,2}|半)?)?")


def parse_clock(text: str) -> time | None:
    m = _CLOCK.search(text)
    if not m or not (":" in text or "：" in text or "点" in text):
        return None
    hour = int(m[2])
    minute = 30 if m[3] == "半" else int(m[3] or 0)
    if m[1] == "下午" and hour < 12:
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def pick_number(text: str, n: int) -> int | None:
    m = _NUM.match(text)
    if m and 1 <= int(m[1]) <= n:
        return int(m[1]) - 1
    return None


def numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def materials_of(service: ServiceConfig) -> str:
    return "、".join(service.materials) or "本人身份证"


def place_of(app, service: ServiceConfig) -> str:
    return service.place or app.config.bot.police_post


# ---- the booking dialog ---------------------------------------------------------------------------

booking = plugin.dialog("booking")


def _service(ctx: Context, data: dict) -> ServiceConfig | None:
    return next((s for s in ctx.app.config.services if s.name == data.get("service")), None)


async def ask_service(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["ask_service"].format(choices=numbered([s.name for s in ctx.app.config.services])))


@booking.state("service", prompt=ask_service)
async def got_service(ctx: Context, data: dict, text: str) -> str | None:
    services = ctx.app.config.services
    index = pick_number(text, len(services))
    service = services[index] if index is not None else service_named(ctx.app, text)
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
    choices = numbered([f"{day_label(d)} 还有{n}个位置" for d, n in days])
    await ctx.reply(TEXTS["ask_day"].format(service=service.name, choices=choices))


@booking.state("day", prompt=ask_day)
async def got_day(ctx: Context, data: dict, text: str) -> str | None:
    service = _service(ctx, data)
    days = [d for d, _ in await free_days(ctx.app, ctx.session, service)]
    index = pick_number(text, len(days))
    day = days[index] if index is not None else parse_day(text, ctx.now.date())
    if day is None or day not in days:
        await ctx.reply(TEXTS["not_understood"] if day is None else f"{day_label(day)}不能预约。")
        return None
    data["day"], data["part"] = day.isoformat(), day_part(text)
    return "slot"


async def _slots_for(ctx: Context, data: dict) -> list[Slot]:
    slots = await free_slots(ctx, ctx.session, _service(ctx, data), date.fromisoformat(data["day"]))
    part = data.get("part")
    if part:
        slots = [s for s in slots if (s.start.hour < 12) == (part == "上午")]
    return slots


async def ask_slot(ctx: Context, data: dict) -> None:
    slots = await _slots_for(ctx, data)
    day, part = day_label(date.fromisoformat(data["day"])), data.get("part") or ""
    if not slots:
        await ctx.reply(TEXTS["no_slots"].format(day=day, part=part))
        return
    choices = numbered([f"{s.start:%H:%M}-{s.end:%H:%M} 还剩{s.free}位" for s in slots])
    await ctx.reply(TEXTS["ask_slot"].format(day=day, part=part, choices=choices))


@booking.state("slot", prompt=ask_slot)
async def got_slot(ctx: Context, data: dict, text: str) -> str | None:
    slots = await _slots_for(ctx, data)
    index = pick_number(text, len(slots))
    chosen = slots[index] if index is not None else None
    if chosen is None and (at := parse_clock(text)) is not None:
        chosen = next((s for s in slots if s.start.time() <= at < s.end.time()), None)
    if chosen is None and (part := day_part(text)) and len(text.strip()) <= 3:
        chosen = next((s for s in slots if (s.start.hour < 12) == (part == "上午")), None)
    if chosen is None:
        await ctx.reply(TEXTS["not_understood"])
        return None
    data["slot"] = chosen.start.isoformat()
    return "confirm" if data.get("name") and data.get("phone_enc") else "name"  # already given: don't ask again


async def ask_name(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["ask_name"])


@booking.state("name", prompt=ask_name)
async def got_name(ctx: Context, data: dict, text: str) -> str | None:
    name = re.sub(r"^(我叫|我是|姓名[:：]?)", "", text.strip()).strip()
    if not 2 <= len(name) <= 20 or re.search(r"\d", name):
        await ctx.reply(TEXTS["bad_name"])
        return None
    data["name"] = name
    return "phone"


async def ask_phone(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["ask_phone"])


@booking.state("phone", prompt=ask_phone)
async def got_phone(ctx: Context, data: dict, text: str) -> str | None:
    phone = re.sub(r"[\s\-—+]", "", text)
    phone = phone[2:] if phone.startswith("86") and len(phone) == 13 else phone
    if not is_mobile(phone):
        await ctx.reply(TEXTS["bad_phone"])
        return None
    data["phone_enc"] = ctx.app.vault.encrypt(phone)  # dialog state is stored: never the plain number
    return "confirm"


async def ask_confirm(ctx: Context, data: dict) -> None:
    service = _service(ctx, data)
    start = datetime.fromisoformat(data["slot"])
    await ctx.reply(TEXTS["summary"].format(
        service=service.name, when=when_label(ctx.app, start, start + timedelta(minutes=service.slot_minutes)),
        place=place_of(ctx.app, service), name=data["name"],
        phone=mask_phone(ctx.app.vault.decrypt(data["phone_enc"])), materials=materials_of(service)))


@booking.state("confirm", prompt=ask_confirm)
async def got_confirm(ctx: Context, data: dict, text: str) -> str | None:
    if text.strip() not in YES_WORDS:
        await ctx.reply(TEXTS["not_understood"])
        return None
    return await book(ctx, data)


# ---- booking, cancelling ------------------------------------------------------------------------

def new_code(app) -> str:
    return "".join(app.rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def already_text(app, b: Booking) -> str:
    return TEXTS["already"].format(service=b.service, when=when_label(app, b.slot_start, b.slot_end), code=b.code)


async def book(ctx: Context, data: dict) -> str:
    """Take the place and write the booking; on a full slot, back to the slot (or day) choice."""
    app, service = ctx.app, _service(ctx, data)
    start = datetime.fromisoformat(data["slot"])
    old = await store.by_code(ctx.session, app.name, data["reschedule"]) if data.get("reschedule") else None
    if old is not None and old.status != BOOKED:  # cancelled meanwhile (a closed day): a new booking
        old = None
    if old is None:
        existing = await store.active_booking(ctx.session, app.name, ctx.sender.id, service.name)
        if existing is not None:
            await ctx.reply(already_text(app, existing))
            return END
    if not await store.take_place(ctx.session, app.name, service.name, start, service.capacity):
        await ctx.reply(TEXTS["slot_full"])
        return "slot" if await _slots_for(ctx, data) else "day"
    if old is not None:
        await _close(ctx, old, CANCELLED, note="改约")
        await ctx.session.flush()  # the old row stops being active before the new one exists
    code = await _unused_code(ctx)
    new = Booking(bot=app.name, code=code, service=service.name, day=start.date(), slot_start=start,
                  slot_end=start + timedelta(minutes=service.slot_minutes), contact_id=ctx.sender.id,
                  name=data["name"], phone_enc=data["phone_enc"],
                  status=BOOKED, created_at=ctx.now)
    ctx.session.add(new)
    when = when_label(app, new.slot_start, new.slot_end)
    if old is not None:
        await ctx.count("appointments_rescheduled", key=service.name)
        await ctx.reply(TEXTS["rescheduled"].format(code=code, when=when))
    else:
        await ctx.count("appointments_booked", key=service.name)
        await ctx.reply(TEXTS["booked"].format(code=code, service=service.name, when=when,
                                               place=place_of(app, service), materials=materials_of(service)))
    return END


async def _unused_code(ctx: Context) -> str:
    while True:
        code = new_code(ctx.app)
        if await store.by_code(ctx.session, ctx.app.name, code) is None:
            return code


async def _close(ctx: Context, b: Booking, status: str, note: str = "") -> None:
    b.status, b.closed_at, b.closed_by, b.note = status, ctx.now, ctx.sender.id, note[:200]
    if status == CANCELLED:
        await store.free_place(ctx.session, ctx.app.name, b.service, b.slot_start)


async def start_booking(ctx: Context, what: str = "") -> None:
    if not ctx.is_private:
        await ctx.reply(TEXTS["group_hint"])
        return
    if not ctx.app.config.services:
        await ctx.reply(TEXTS["no_services"])
        return
    service = service_named(ctx.app, what) if what.strip() else None
    if service is None:
        await ctx.start_dialog("booking", "service")
        return
    existing = await store.active_booking(ctx.session, ctx.app.name, ctx.sender.id, service.name)
    if existing is not None:
        await ctx.reply(already_text(ctx.app, existing))
        return
    await ctx.start_dialog("booking", "day", {"service": service.name})


@plugin.phrase(r"^(?:我要|我想|想|帮我|要)?(?:预约|网上预约)(?:办理)?(?P<what>.{0,12})$")
async def booking_phrase(ctx: Context, match: re.Match) -> bool:
    await start_booking(ctx, match["what"] or "")
    return True


@plugin.intent("appointment")
async def booking_intent(ctx: Context, found) -> bool:
    await start_booking(ctx, ctx.text if service_named(ctx.app, ctx.text) else "")
    return True


async def _own_booking(ctx: Context, code: str | None, verb: str) -> Booking | None:
    """The sender's active booking by code, or None after telling them why not."""
    if not ctx.is_private:
        await ctx.reply(TEXTS["private_please"])
        return None
    if not code:
        await ctx.reply(TEXTS["code_please"].format(verb=verb, example="ABC234"))
        return None
    b = await store.by_code(ctx.session, ctx.app.name, code.upper())
    if b is None or b.contact_id != ctx.sender.id or b.status != BOOKED or b.slot_start <= ctx.now:
        await ctx.reply(TEXTS["no_such"].format(code=code.upper()))
        return None
    return b


@plugin.phrase(r"^(?:查看)?我的预约$", priority=10)
async def my_bookings(ctx: Context, match: re.Match) -> bool:
    if not ctx.is_private:
        await ctx.reply(TEXTS["private_please"])
        return True
    rows = [b for b in await store.bookings_of(ctx.session, ctx.app.name, contact_id=ctx.sender.id, status=BOOKED)
            if b.slot_start > ctx.now]
    if not rows:
        await ctx.reply(TEXTS["mine_none"])
        return True
    services = {s.name: s for s in ctx.app.config.services}
    lines = [TEXTS["mine_head"]]
    for b in rows:
        place = place_of(ctx.app, services[b.service]) if b.service in services else ctx.app.config.bot.police_post
        lines.append(TEXTS["mine_line"].format(code=b.code, service=b.service,
                                               when=when_label(ctx.app, b.slot_start, b.slot_end), place=place))
    lines.append(TEXTS["mine_tail"])
    await ctx.reply("\n".join(lines))
    return True


@plugin.phrase(r"^取消预约\s*(?P<code>[A-Za-z0-9]{4,8})?$", priority=10)
async def cancel_booking(ctx: Context, match: re.Match) -> bool:
    b = await _own_booking(ctx, match["code"], "取消预约")
    if b is None:
        return True
    await _close(ctx, b, CANCELLED, note="居民取消")
    await ctx.count("appointments_cancelled", key=b.service)
    await ctx.reply(TEXTS["cancelled"].format(code=b.code, service=b.service,
                                              when=when_label(ctx.app, b.slot_start, b.slot_end)))
    return True


@plugin.phrase(r"^改约\s*(?P<code>[A-Za-z0-9]{4,8})?$", priority=10)
async def reschedule(ctx: Context, match: re.Match) -> bool:
    b = await _own_booking(ctx, match["code"], "改约")
    if b is None:
        return True
    if not any(s.name == b.service for s in ctx.app.config.services):
        await ctx.reply(TEXTS["no_services"])
        return True
    await ctx.reply(TEXTS["reschedule_start"].format(service=b.service,
                                                     when=when_label(ctx.app, b.slot_start, b.slot_end)))
    await ctx.start_dialog("booking", "day", {"service": b.service, "reschedule": b.code, "name": b.name,
                                              "phone_enc": b.phone_enc})
    return True


# ---- officers and staff ---------------------------------------------------------------------------

@plugin.command("预约", roles=STAFF, where="private", summary="预约名单、办结、爽约、关闭某天、导出登记簿",
                usage="[今天|明天|日期] | 完成 码 | 爽约 码 | 关闭 日期 [原因] | 开放 日期 | 导出 起 止")
async def officer_command(ctx: Context) -> None:
    args = ctx.args
    action = args[0] if args else "今天"
    if action in ("完成", "办结", "爽约") and len(args) == 2:
        await mark(ctx, args[1].upper(), NO_SHOW if action == "爽约" else COMPLETED)
    elif action in ("关闭", "开放") and len(args) >= 2:
        day = parse_day(args[1], ctx.now.date())
        if day is None:
            await ctx.reply(STAFF_TEXTS["bad_date"].format(text=args[1]))
        elif action == "关闭":
            await close_day(ctx, day, " ".join(args[2:]))
        else:
            await reopen_day(ctx, day)
    elif action == "导出":
        await export(ctx, args[1:])
    elif len(args) <= 1 and (day := parse_day(action, ctx.now.date())) is not None:
        await list_day(ctx, day)
    else:
        await ctx.reply(STAFF_TEXTS["usage"])
        ctx.outcome = "usage"


async def list_day(ctx: Context, day: date) -> None:
    closed = await store.closed_days(ctx.session, ctx.app.name, day, day)
    closed_mark = STAFF_TEXTS["closed_mark"].format(reason=closed[day] or "无") if day in closed else ""
    rows = [b for b in await store.bookings_of(ctx.session, ctx.app.name, day_from=day, day_to=day)
            if b.status != CANCELLED]
    if not rows:
        await ctx.reply(STAFF_TEXTS["list_none"].format(day=day_label(day), closed=closed_mark))
        return
    lines = [STAFF_TEXTS["list_head"].format(day=day_label(day), n=len(rows), closed=closed_mark)]
    for b in rows:
        lines.append(STAFF_TEXTS["list_line"].format(
            time=f"{b.slot_start.astimezone(ctx.app.clock.tz):%H:%M}", service=b.service, name=b.name,
            phone=masked_phone(ctx.app, b), code=b.code, status=STATUS_NAMES[b.status]))
    await ctx.reply("\n".join(lines))


def masked_phone(app, b: Booking) -> str:
    return mask_phone(app.vault.decrypt(b.phone_enc)) if b.phone_enc else ""


async def mark(ctx: Context, code: str, status: str) -> None:
    b = await store.by_code(ctx.session, ctx.app.name, code)
    if b is None:
        await ctx.reply(TEXTS["no_such"].format(code=code))
        ctx.outcome = "not found"
        return
    if b.status != BOOKED:
        await ctx.reply(STAFF_TEXTS["not_markable"].format(code=code, status=STATUS_NAMES[b.status]))
        ctx.outcome = "not booked"
        return
    await _close(ctx, b, status)
    await ctx.count("appointments_completed" if status == COMPLETED else "appointments_no_show", key=b.service)
    await ctx.reply(STAFF_TEXTS["marked"].format(code=code, name=b.name, service=b.service,
                                                 when=when_label(ctx.app, b.slot_start, b.slot_end),
                                                 status=STATUS_NAMES[status]))


async def close_day(ctx: Context, day: date, reason: str) -> None:
    if await ctx.session.get(store.ClosedDay, (ctx.app.name, day)) is not None:
        await ctx.reply(STAFF_TEXTS["already_closed"].format(day=day_label(day)))
        return
    ctx.session.add(store.ClosedDay(bot=ctx.app.name, day=day, reason=reason[:200], closed_by=ctx.sender.id,
                                    closed_at=ctx.now))
    await ctx.session.flush()
    affected = await store.bookings_of(ctx.session, ctx.app.name, day_from=day, day_to=day, status=BOOKED)
    services = {s.name: s for s in ctx.app.config.services}
    for b in affected:
        await _close(ctx, b, CANCELLED, note=f"警务室关闭：{reason}" if reason else "警务室关闭")
        await ctx.count("appointments_cancelled", key=b.service)
        days = await free_days(ctx.app, ctx.session, services[b.service]) if b.service in services else []
        alternatives = (TEXTS["alternatives"].format(days="、".join(day_label(d) for d, _ in days[:3]))
                        if days else TEXTS["no_alternatives"])
        await ctx.send_to_contact(b.contact_id, TEXTS["day_closed_notice"].format(
            day=day_label(day), reason=f"（{reason}）" if reason else "", service=b.service,
            when=when_label(ctx.app, b.slot_start, b.slot_end), code=b.code, alternatives=alternatives),
            source="appointments")
    await ctx.reply(STAFF_TEXTS["closed"].format(day=day_label(day), reason=f"（{reason}）" if reason else "",
                                                 n=len(affected)))


async def reopen_day(ctx: Context, day: date) -> None:
    row = await ctx.session.get(store.ClosedDay, (ctx.app.name, day))
    if row is None:
        await ctx.reply(STAFF_TEXTS["not_closed"].format(day=day_label(day)))
        return
    await ctx.session.delete(row)
    await ctx.reply(STAFF_TEXTS["reopened"].format(day=day_label(day)))


def register_rows(app, bookings: list[Booking]) -> list[list[str]]:
    """The reception service register (接待服务登记簿): times are the ones the system recorded."""
    tz = app.clock.tz
    rows = []
    for i, b in enumerate(bookings, 1):
        start, end = b.slot_start.astimezone(tz), b.slot_end.astimezone(tz)
        rows.append([str(i), b.code, b.service, b.day.isoformat(), f"{start:%H:%M}-{end:%H:%M}", b.name,
                     masked_phone(app, b), f"{b.created_at.astimezone(tz):%Y-%m-%d %H:%M}", STATUS_NAMES[b.status],
                     f"{b.closed_at.astimezone(tz):%Y-%m-%d %H:%M}" if b.closed_at else "", b.note])
    return rows


async def export(ctx: Context, args: list[str]) -> None:
    today = ctx.now.date()
    start = parse_day(args[0], today) if args else None
    end = parse_day(args[1], today) if len(args) > 1 else start
    if start is None or end is None or end < start:
        await ctx.reply(STAFF_TEXTS["bad_range"])
        ctx.outcome = "bad range"
        return
    bookings = await store.bookings_of(ctx.session, ctx.app.name, day_from=start, day_to=end)
    folder = ctx.app.data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"reception_register_{start:%Y%m%d}_{end:%Y%m%d}.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:  # utf-8-sig: Excel opens it right
        writer = csv.writer(f)
        writer.writerow(REGISTER_COLUMNS)
        writer.writerows(register_rows(ctx.app, bookings))
    await ctx.reply(STAFF_TEXTS["exported"].format(start=start, end=end, n=len(bookings), path=path))
    await ctx.app.outbox.enqueue(ctx.session, Outgoing(None, ctx.sender.id, str(path), kind="file"), source="export")


# ---- reminders ------------------------------------------------------------------------------------

EVENING_JOB, HOUR_JOB = "appointments:evening", "appointments:hour"


def hour_trigger(app) -> OrTrigger | None:
    """One trigger firing `reminder_before_minutes` before every slot start any service has."""
    before = timedelta(minutes=app.config.appointments.reminder_before_minutes)
    if not before or not app.config.services:
        return None
    times = set()
    monday = date(2026, 1, 5)
    for service in app.config.services:
        for start, _ in slot_times(app, service, monday):
            times.add((start - before).time())
    return OrTrigger([CronTrigger(hour=t.hour, minute=t.minute, timezone=app.clock.tz) for t in sorted(times)])


def reminder_text(app, b: Booking, key: str) -> str:
    service = next((s for s in app.config.services if s.name == b.service), None)
    start = b.slot_start.astimezone(app.clock.tz)
    return TEXTS[key].format(
        service=b.service, code=b.code, when=when_label(app, b.slot_start, b.slot_end), time=f"{start:%H:%M}",
        place=place_of(app, service) if service else app.config.bot.police_post,
        materials=materials_of(service) if service else "本人身份证")


@plugin.job("appointments-evening")
async def evening_reminders(app, payload: dict, due: datetime) -> None:
    tomorrow = due.astimezone(app.clock.tz).date() + timedelta(days=1)
    async with app.sessions.begin() as session:
        for b in await store.bookings_of(session, app.name, day_from=tomorrow, day_to=tomorrow, status=BOOKED):
            await app.send(session, Outgoing(None, b.contact_id, reminder_text(app, b, "reminder_evening")),
                           dedup_key=f"appt:{b.id}:evening", source="reminder")


@plugin.job("appointments-hour")
async def hour_reminders(app, payload: dict, due: datetime) -> None:
    before = timedelta(minutes=app.config.appointments.reminder_before_minutes)
    horizon = due + before
    async with app.sessions.begin() as session:
        rows = await store.bookings_of(session, app.name, day_from=due.astimezone(app.clock.tz).date(),
                                       day_to=horizon.astimezone(app.clock.tz).date(), status=BOOKED)
        for b in rows:
            # Booked within the hour: the confirmation just told them; no "one hour before" then.
            if due < b.slot_start <= horizon and b.created_at <= b.slot_start - before:
                await app.send(session, Outgoing(None, b.contact_id, reminder_text(app, b, "reminder_hour")),
                               dedup_key=f"appt:{b.id}:hour", source="reminder")


@plugin.on_start
async def setup(app) -> None:
    settings = app.config.appointments
    evening = settings.reminder_evening
    await app.scheduler.add(EVENING_JOB, "appointments-evening", {},
                            CronTrigger(hour=evening.hour, minute=evening.minute, timezone=app.clock.tz),
                            grace=timedelta(hours=3))
    trigger = hour_trigger(app)
    if trigger is None:
        await app.scheduler.remove(HOUR_JOB)
    else:
        await app.scheduler.add(HOUR_JOB, "appointments-hour", {}, trigger, grace=timedelta(minutes=30))
    # Changed hours or reminder times replace the jobs (next run from now): catch up what was
    # due while the bot was down (the reminders' dedup keys make a second run harmless).
    now = app.clock.now()
    evening_due = now.replace(hour=evening.hour, minute=evening.minute, second=0, microsecond=0)
    if evening_due <= now <= evening_due + timedelta(hours=3):
        await evening_reminders(app, {}, evening_due)
    if trigger is not None:
        await hour_reminders(app, {}, now)
    app.outbox.wake()
