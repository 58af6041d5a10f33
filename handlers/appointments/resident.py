"""What residents say without a slash: 预约, 我的预约, 取消预约 码, 改约 码 (private chat only)."""

from __future__ import annotations

import re

from bot.context import Context
from handlers.appointments import bookings
from handlers.appointments.bookings import service_of, when_of
from handlers.appointments.codes import CODE_PATTERN, normal_code
from handlers.appointments.dialog import start_booking
from handlers.appointments.plugin import plugin
from handlers.appointments.slots import find_service
from handlers.appointments.texts import TEXTS, place_of
from storage import appointments as store
from storage.appointments import BOOKED, CANCELLED, Booking


@plugin.phrase(r"^(?:我要|我想|想|帮我|要)?(?:预约|网上预约)(?:办理)?(?P<what>.{0,12})$")
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


@plugin.phrase(rf"^取消预约\s*(?P<code>{CODE_PATTERN})?$", priority=10)
async def cancel_booking(ctx: Context, match: re.Match) -> bool:
    b = await _own_booking(ctx, match["code"], "取消预约")
    if b is None:
        return True
    await bookings.close(ctx, b, CANCELLED, note="居民取消")
    await ctx.count("appointments_cancelled", key=b.service)
    await ctx.reply(TEXTS["cancelled"].format(code=b.code, service=b.service, when=when_of(ctx.app, b)))
    return True


@plugin.phrase(rf"^改约\s*(?P<code>{CODE_PATTERN})?$", priority=10)
async def reschedule(ctx: Context, match: re.Match) -> bool:
    b = await _own_booking(ctx, match["code"], "改约")
    if b is None:
        return True
    if service_of(ctx.app, b.service) is None:
        await ctx.reply(TEXTS["no_services"])
        return True
    await ctx.reply(TEXTS["reschedule_start"].format(service=b.service, when=when_of(ctx.app, b)))
    await ctx.start_dialog("booking", "day", {"service": b.service, "reschedule": b.code, "name": b.name,
                                              "phone_enc": b.phone_enc})
    return True


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
