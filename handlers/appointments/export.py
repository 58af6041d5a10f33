"""Bookings on paper: this feature's rows of the 接待服务登记簿 (storage.registers), with no phone,
and `/预约 导出`, which writes that register as `jingmin export registers` does (bot.register_files).

Times are the ones the system recorded when the booking was made, completed or cancelled."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import register_files
from bot.context import Context
from bot.masking import mask_name
from bot.messages import Outgoing
from handlers.appointments.parse import parse_day
from handlers.appointments.plugin import plugin
from handlers.appointments.texts import REGISTER_TEXTS, STAFF_TEXTS, STATUS_NAMES
from storage import appointments as store
from storage.appointments import BOOKED, COMPLETED, Booking
from storage.registers import RegisterRow, day_bounds


@plugin.subcommand("预约", "导出", pattern=r"(?P<start>\S+)(?:\s+(?P<end>\S+))?", usage="起始日期 [结束日期]",
                   summary="导出这段日子的接待服务登记簿（Excel 和 CSV 文件发给您）")
async def export_command(ctx: Context, start: str, end: str | None = None) -> None:
    """The same 接待服务登记簿 as `jingmin export registers` (every feature's rows, one format)."""
    today = ctx.now.date()
    first = parse_day(start, today)
    last = parse_day(end, today) if end is not None else first
    if first is None or last is None or last < first:
        await ctx.reply(STAFF_TEXTS["bad_range"])
        ctx.outcome = "bad range"
        return
    app = ctx.app
    n, csv_path, xlsx_path = await register_files.export(ctx.session, app.config, app.registry, "reception",
                                                         first, last)
    await ctx.reply(STAFF_TEXTS["exported"].format(start=first, end=last, n=n, path=xlsx_path))
    for path in (xlsx_path, csv_path):
        await app.send(ctx.session, Outgoing(None, ctx.sender.id, str(path), kind="file"), source="export")


# ---- 接待服务登记簿 ----------------------------------------------------------------------------------

@plugin.register_rows("reception")
async def reception_rows(session: AsyncSession, config, start: date, end: date) -> list[RegisterRow]:
    """One row per booking made in the days [start, end] (the exporter keeps those of its zone's days)."""
    made = await store.booked_between(session, config.bot.name, *day_bounds(start, end))
    return [reception_row(b, closer) for b, closer in made]


def reception_row(b: Booking, closer: str | None) -> RegisterRow:
    """登记时间 is when it was booked (row.at). `closer`: the name of whoever closed the booking,
    its 经办人 when that was not the resident (an officer's 完成/爽约, a closed day)."""
    handled_by = (closer or "") if b.closed_by and b.closed_by != b.contact_id else ""
    return RegisterRow(b.created_at, {
        "类别": REGISTER_TEXTS["category"], "事项": b.service, "来源": REGISTER_TEXTS["source"],
        "群众": mask_name(b.name), "办理情况": STATUS_NAMES[b.status],
        "办结时间": b.closed_at if b.status == COMPLETED and b.closed_at else "", "经办人": handled_by})



# ---- the weekly report ---------------------------------------------------------------------------

UPCOMING_DAYS = 7


@plugin.report_line("appointments")
async def upcoming_line(app, session: AsyncSession, period) -> list[str]:
    """Bookings still to be served in the coming week, from today: the post's workload, no names."""
    today = app.clock.now().date()
    waiting = await store.bookings_of(session, app.name, day_from=today,
                                      day_to=today + timedelta(days=UPCOMING_DAYS - 1), status=BOOKED)
    return [STAFF_TEXTS["report_upcoming"].format(days=UPCOMING_DAYS, n=len(waiting))] if waiting else []
