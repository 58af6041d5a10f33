"""What residents say without a slash: 预约, 我的预约, 取消预约 码, 改约 码 (private chat only)."""

from __future__ import annotations

import re

from bot.context import Context
from handlers.appointments import bookings
from handlers.appointments.bookings import service_of, when_of
from handlers.appointments.codes import CODE_PATTERN, normal_code
from bot.plugin import END, Reask
from handlers.appointments.dialog import start_booking
from handlers.appointments.parse import pick_number, says_yes
from handlers.appointments.plugin import plugin
from handlers.appointments.slots import find_service
from handlers.appointments.texts import TEXTS, place_of
from storage import appointments as store
from storage.appointments import BOOKED, CANCELLED, Booking


@plugin.phrase(r"^(?:我要|我想|想|帮我|要)?(?:预约|网上预约)(?:办理)?(?P<what>.{0,12})$", dialog_answer=True)
async def booking_phrase(ctx: Context, match: re.Match) -> bool:
    await start_booking(ctx, match["what"] or "")
    return True


@plugin.intent("appointment")
async def booking_intent(ctx: Context, found) -> bool:
    await start_booking(ctx, ctx.text if find_service(ctx.app.config.services, ctx.text) else "")
    return True


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
    lines = [TEXTS["mine_head"]]
    for b in rows:
        place = place_of(service_of(ctx.app, b.service), ctx.app.config.bot.police_post)
        lines.append(TEXTS["mine_line"].format(code=b.code, service=b.service, when=when_of(ctx.app, b), place=place))
    lines.append(TEXTS["mine_tail"])
    await ctx.reply("\n".join(lines))
    return True


@plugin.phrase(rf"^取消预约\s*(?P<code>{CODE_PATTERN})?[。.!！]?$", priority=10)
async def cancel_booking(ctx: Context, match: re.Match) -> bool:
    """取消预约 码: cancelled. Without a code: the one booking asked about, or which of several."""
    if not match["code"]:
        await _which(ctx, "cancel")
        return True
    b = await _own_booking(ctx, match["code"], "取消预约")
    if b is not None:
        await cancel(ctx, b)
    return True


async def cancel(ctx: Context, b: Booking) -> None:
    await bookings.close(ctx, b, CANCELLED, note="居民取消")
    await ctx.count("appointments_cancelled", key=b.service)
    await ctx.reply(TEXTS["cancelled"].format(code=b.code, service=b.service, when=when_of(ctx.app, b)))


@plugin.phrase(rf"^改约\s*(?P<code>{CODE_PATTERN})?[。.!！]?$", priority=10)
async def reschedule(ctx: Context, match: re.Match) -> bool:
    if not match["code"]:
        await _which(ctx, "reschedule")
        return True
    b = await _own_booking(ctx, match["code"], "改约")
    if b is not None:
        await move(ctx, b)
    return True


async def move(ctx: Context, b: Booking) -> None:
    if service_of(ctx.app, b.service) is None:
        await ctx.reply(TEXTS["no_services"])
        return
    await ctx.reply(TEXTS["reschedule_start"].format(service=b.service, when=when_of(ctx.app, b)))
    await ctx.start_dialog("booking", "day", {"service": b.service, "reschedule": b.code, "name": b.name,
                                              "phone_enc": b.phone_enc})


async def _upcoming(ctx: Context) -> list[Booking]:
    return [b for b in await store.bookings_of(ctx.session, ctx.app.name, contact_id=ctx.sender.id, status=BOOKED)
            if b.slot_start > ctx.now]


async def _which(ctx: Context, verb: str) -> None:
    """No code given: one booking -> that one (a cancel is asked once more); several -> a choice."""
    if not ctx.is_private:
        await ctx.reply(TEXTS["private_please"])
        return
    rows = await _upcoming(ctx)
    if not rows:
        await ctx.reply(TEXTS["mine_none"])
    elif len(rows) == 1 and verb == "reschedule":
        await move(ctx, rows[0])
    elif len(rows) == 1:
        await ctx.start_dialog("booking_pick", "confirm", {"verb": verb, "code": rows[0].code})
    elif verb == "reschedule":  # several: which one is said with its code, as 我的预约 lists them
        await my_bookings(ctx, None)
    else:
        await ctx.start_dialog("booking_pick", "which", {"verb": verb, "codes": [b.code for b in rows]})


pick = plugin.dialog("booking_pick", title="取消或改约", start_word="我的预约")


async def ask_which(ctx: Context, data: dict) -> None:
    rows = [b for b in await _upcoming(ctx) if b.code in data["codes"]]
    lines = "\n".join(f"{i}. {b.service}，{when_of(ctx.app, b)}（{b.code}）" for i, b in enumerate(rows, 1))
    await ctx.reply(TEXTS["cancel_which"].format(n=len(rows), choices=lines))


async def help_pick(ctx: Context, data: dict) -> str:
    return TEXTS["pick_booking"]


@pick.state("which", prompt=ask_which, label="正在选哪一个预约", help=help_pick)
async def got_which(ctx: Context, data: dict, text: str):
    rows = [b for b in await _upcoming(ctx) if b.code in data["codes"]]
    index = pick_number(text, len(rows))
    chosen = rows[index] if index is not None else next((b for b in rows if normal_code(text) == b.code), None)
    if chosen is None:
        return Reask(TEXTS["pick_booking"])
    data["code"] = chosen.code
    return "confirm"


async def ask_cancel(ctx: Context, data: dict) -> None:
    b = await store.by_code(ctx.session, ctx.app.name, data["code"])
    await ctx.reply(TEXTS["cancel_confirm"].format(service=b.service, when=when_of(ctx.app, b), code=b.code))


@pick.state("confirm", prompt=ask_cancel, label="等您确认要不要取消", help=help_pick, keeps={"取消", "不用", "不要", "不用了", "不要了"})
async def got_cancel(ctx: Context, data: dict, text: str):
    word = re.sub(r"[\s\W_]+", "", text)
    if word in ("不", "不要", "不用", "不取消", "不用了", "不要了", "保留", "别取消", "否", "2"):
        await ctx.reply(TEXTS["cancel_kept"])
        return END
    if not says_yes(text) and word not in ("取消", "取消吧", "要取消"):
        return Reask(TEXTS["help_cancel"])
    b = await store.by_code(ctx.session, ctx.app.name, data["code"])
    if b is not None and b.status == BOOKED and b.contact_id == ctx.sender.id:
        await cancel(ctx, b)
    else:
        await ctx.reply(TEXTS["no_such"].format(code=data["code"]))
    return END


async def _own_booking(ctx: Context, code: str | None, verb: str) -> Booking | None:
    """The sender's active booking by code, or None after telling them why not."""
    if not ctx.is_private:
        await ctx.reply(TEXTS["private_please"])
        return None
    if not code:
        await ctx.reply(TEXTS["code_please"].format(verb=verb, example="ABC234"))
        return None
    code = normal_code(code)
    b = await store.by_code(ctx.session, ctx.app.name, code)
    if b is None or b.contact_id != ctx.sender.id or b.status != BOOKED or b.slot_start <= ctx.now:
        await ctx.reply(TEXTS["no_such"].format(code=code))
        return None
    return b
