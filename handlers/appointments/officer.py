"""/预约 for officers and staff, in private chat: a day's list, 完成 (办结), 爽约, 电话 (officers:
the whole number, audited), 关闭, 开放.
(导出 is in export.py.) Each subcommand is declared with its pattern; the router answers a rest
that does not fit with the usage line, so a handler only sees arguments of the right shape."""

from __future__ import annotations

from datetime import date

from bot.context import Context
from bot.plugin import OFFICER, STAFF
from handlers.appointments import bookings
from handlers.appointments.bookings import free_days, masked_phone, service_of, when_of
from handlers.appointments.codes import CODE_PATTERN, normal_code
from handlers.appointments.parse import day_or_reason
from handlers.appointments.plugin import PHONE_SOURCE, plugin
from handlers.appointments.texts import STAFF_TEXTS, STATUS_NAMES, TEXTS, day_label
from storage import appointments as store
from storage.appointments import BOOKED, CANCELLED, COMPLETED, NO_SHOW, Booking

CODE = rf"(?P<code>{CODE_PATTERN})"


@plugin.command("预约", roles=STAFF, where="private", summary="查看某天的预约名单（默认今天）",
                usage="[今天|明天|日期]")
async def day_list(ctx: Context) -> None:
    """`/预约`, `/预约 明天`, `/预约 12月8日`: the first word is no subcommand's verb."""
    args = ctx.args
    day, why = day_or_reason(args[0] if args else "今天", ctx.now.date()) if len(args) <= 1 else (None, None)
    if why:
        await ctx.reply(why)
        ctx.outcome = "bad date"
        return
    if day is None:
        await ctx.reply(STAFF_TEXTS["usage"])
        ctx.outcome = "usage"
        return
    await list_day(ctx, day)


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


@plugin.subcommand("预约", "完成", aliases=("办结",), pattern=CODE, usage="预约码", summary="把一条预约标为已办结")
async def complete(ctx: Context, code: str) -> None:
    await mark(ctx, normal_code(code), COMPLETED)


@plugin.subcommand("预约", "爽约", pattern=CODE, usage="预约码", summary="把一条预约标为爽约（没来）")
async def no_show(ctx: Context, code: str) -> None:
    await mark(ctx, normal_code(code), NO_SHOW)


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
    if status == NO_SHOW and b.slot_start > ctx.now:  # nobody has missed a time still to come
        await ctx.reply(STAFF_TEXTS["too_early_no_show"].format(code=code, when=when_of(ctx.app, b)))
        ctx.outcome = "too early"
        return
    await bookings.close(ctx, b, status)
    await ctx.count("appointments_completed" if status == COMPLETED else "appointments_no_show", key=b.service)
    await ctx.reply(STAFF_TEXTS["marked"].format(code=code, name=b.name, service=b.service, when=when_of(ctx.app, b),
                                                 status=STATUS_NAMES[status]))


@plugin.subcommand("预约", "电话", pattern=CODE, roles=OFFICER, usage="预约码",
                   summary="看预约人的完整手机号（记入审计日志）")
async def reveal_phone(ctx: Context, code: str) -> None:
    """The number a resident gave so the post could reach them, shown whole to an officer who
    asks. The router audits the subcommand; the outcome names the booking, never the number.
    The reply's outbox row is of a confidential source: its text is cleared once sent."""
    b = await store.by_code(ctx.session, ctx.app.name, normal_code(code))
    if b is None or not b.phone_enc:
        await ctx.reply(TEXTS["no_such"].format(code=normal_code(code)))
        ctx.outcome = "not found"
        return
    ctx.reply_source = PHONE_SOURCE
    await ctx.reply(STAFF_TEXTS["phone"].format(code=b.code, name=b.name, service=b.service,
                                                when=when_of(ctx.app, b), phone=ctx.app.vault.decrypt(b.phone_enc)))
    ctx.outcome = f"phone shown: {b.code}"


@plugin.subcommand("预约", "关闭", pattern=r"(?P<day>\S+)(?:\s+(?P<reason>.+))?", usage="日期 [原因]",
                   summary="关闭某天的预约，已约的居民会收到通知")
async def close_day(ctx: Context, day: str, reason: str = "") -> None:
    when, why = day_or_reason(day, ctx.now.date())
    if when is None:
        await ctx.reply(why or STAFF_TEXTS["bad_date"].format(text=day))
        return
    reason = " ".join(reason.split())
    if await ctx.session.get(store.ClosedDay, (ctx.app.name, when)) is not None:
        await ctx.reply(STAFF_TEXTS["already_closed"].format(day=day_label(when)))
        return
    ctx.session.add(store.ClosedDay(bot=ctx.app.name, day=when, reason=reason[:200], closed_by=ctx.sender.id,
                                    closed_at=ctx.now))
    await ctx.session.flush()
    affected = await store.bookings_of(ctx.session, ctx.app.name, day_from=when, day_to=when, status=BOOKED)
    for b in affected:
        await bookings.close(ctx, b, CANCELLED, note=f"警务室关闭：{reason}" if reason else "警务室关闭")
        await ctx.count("appointments_cancelled", key=b.service)
        await _tell_closed(ctx, b, when, reason)
    await ctx.reply(STAFF_TEXTS["closed"].format(day=day_label(when), reason=f"（{reason}）" if reason else "",
                                                 n=len(affected)))


async def _tell_closed(ctx: Context, b: Booking, day: date, reason: str) -> None:
    """The resident whose booking the closed day cancelled hears why, and which days are still free."""
    service = service_of(ctx.app, b.service)
    days = await free_days(ctx.app, ctx.session, service) if service else []
    alternatives = (TEXTS["alternatives"].format(days="、".join(day_label(d) for d, _ in days[:3]))
                    if days else TEXTS["no_alternatives"])
    await ctx.send_to_contact(b.contact_id, TEXTS["day_closed_notice"].format(
        day=day_label(day), reason=f"（{reason}）" if reason else "", service=b.service, when=when_of(ctx.app, b),
        code=b.code, alternatives=alternatives), source="appointments")


@plugin.subcommand("预约", "开放", pattern=r"(?P<day>\S+)", usage="日期", summary="重新开放关闭了的一天")
async def reopen_day(ctx: Context, day: str) -> None:
    when, why = day_or_reason(day, ctx.now.date())
    if when is None:
        await ctx.reply(why or STAFF_TEXTS["bad_date"].format(text=day))
        return
    row = await ctx.session.get(store.ClosedDay, (ctx.app.name, when))
    if row is None:
        await ctx.reply(STAFF_TEXTS["not_closed"].format(day=day_label(when)))
        return
    await ctx.session.delete(row)
    await ctx.reply(STAFF_TEXTS["reopened"].format(day=day_label(when)))
