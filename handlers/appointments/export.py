"""Bookings on paper: `/预约 导出` (the post's own CSV list, masked phones) and this feature's rows
of the 接待服务登记簿 (`jingmin export registers`, storage.registers), with no phone at all.

Times are the ones the system recorded when the booking was made, completed or cancelled."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, tzinfo
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.masking import mask_name
from bot.messages import Outgoing
from handlers.appointments.bookings import masked_phone
from handlers.appointments.parse import parse_day
from handlers.appointments.plugin import plugin
from handlers.appointments.texts import EXPORT_COLUMNS, REGISTER_TEXTS, STAFF_TEXTS, STATUS_NAMES
from storage import appointments as store
from storage.appointments import COMPLETED, Booking
from storage.registers import RegisterRow, day_bounds


@plugin.subcommand("预约", "导出", pattern=r"(?P<start>\S+)(?:\s+(?P<end>\S+))?", usage="起始日期 [结束日期]",
                   summary="导出这段日子的预约登记（CSV 文件发给您）")
async def export_command(ctx: Context, start: str, end: str | None = None) -> None:
    today = ctx.now.date()
    first = parse_day(start, today)
    last = parse_day(end, today) if end is not None else first
    if first is None or last is None or last < first:
        await ctx.reply(STAFF_TEXTS["bad_range"])
        ctx.outcome = "bad range"
        return
    booked = await store.bookings_of(ctx.session, ctx.app.name, day_from=first, day_to=last)
    path = ctx.app.data_dir / "exports" / f"reception_register_{first:%Y%m%d}_{last:%Y%m%d}.csv"
    write_csv(path, export_rows(booked, ctx.app.clock.tz, lambda b: masked_phone(ctx.app, b)))
    await ctx.reply(STAFF_TEXTS["exported"].format(start=first, end=last, n=len(booked), path=path))
    await ctx.app.send(ctx.session, Outgoing(None, ctx.sender.id, str(path), kind="file"), source="export")


def export_rows(bookings: list[Booking], tz: tzinfo, phone_of: Callable[[Booking], str]) -> list[list[str]]:
    """One numbered line per booking, in the post's time zone; `phone_of` gives the masked phone."""
    rows = []
    for i, b in enumerate(bookings, 1):
        start, end = b.slot_start.astimezone(tz), b.slot_end.astimezone(tz)
        rows.append([str(i), b.code, b.service, b.day.isoformat(), f"{start:%H:%M}-{end:%H:%M}", b.name,
                     phone_of(b), f"{b.created_at.astimezone(tz):%Y-%m-%d %H:%M}", STATUS_NAMES[b.status],
                     f"{b.closed_at.astimezone(tz):%Y-%m-%d %H:%M}" if b.closed_at else "", b.note])
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:  # utf-8-sig: Excel opens it right
        writer = csv.writer(f)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(rows)


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

