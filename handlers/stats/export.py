"""Files for the office: the registers (CSV and XLSX) and a per-group statistics table (CSV)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, tzinfo
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from bot.config import CATEGORIES
from bot.directory import Directory
from handlers.stats.report import messages_of
from storage.registers import Register, RegisterRow
from storage.stats import Totals

# CSV for Excel on Windows: the BOM makes it read the file as UTF-8, not GBK.
CSV_ENCODING = "utf-8-sig"

STATS_COLUMNS = ("群", "分类", "交流信息", "业务咨询", "意见建议", "线索举报", "预约办理", "推送", "紧急求助提醒",
                 "诈骗预警", "新入群", "新好友")


def _cell(value: str | datetime | None, tz: tzinfo) -> str:
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def register_table(register: Register, rows: list[RegisterRow], tz: tzinfo) -> list[list[str]]:
    """Header and numbered rows; 登记时间 is the time the system recorded unless the provider set it.
    Every time is written in the community's zone."""
    table = [["序号", *register.columns]]
    for n, row in enumerate(rows, 1):
        cells = dict(row.cells)
        cells.setdefault("登记时间", row.at)
        table.append([str(n), *(_cell(cells.get(col), tz) for col in register.columns)])
    return table


def write_register(register: Register, rows: list[RegisterRow], tz: tzinfo, out_dir: Path,
                   start: date, end: date) -> tuple[Path, Path]:
    table = register_table(register, rows, tz)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{register.title}_{start:%Y%m%d}-{end:%Y%m%d}"
    csv_path, xlsx_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.xlsx"
    with csv_path.open("w", encoding=CSV_ENCODING, newline="") as f:
        csv.writer(f).writerows(table)
    wb = Workbook()
    ws = wb.active
    ws.title = register.title
    ws.append([f"{register.title}（{start:%Y-%m-%d}至{end:%Y-%m-%d}）"])
    ws["A1"].font = Font(bold=True, size=14)
    for line in table:
        ws.append(line)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for i, width in enumerate([6] + [18] * len(register.columns), 1):
        ws.column_dimensions[ws.cell(row=2, column=i).column_letter].width = width
    ws.freeze_panes = "A3"
    wb.save(xlsx_path)
    return csv_path, xlsx_path


def _stats_row(name: str, category: str, numbers: dict[str, int]) -> list[str]:
    return [name, category, str(messages_of(numbers)), str(numbers.get("consultations", 0)),
            str(numbers.get("suggestions", 0)), str(numbers.get("tips", 0)),
            str(numbers.get("appointments_booked", 0)), str(numbers.get("pushes", 0)),
            str(numbers.get("emergencies", 0)), str(numbers.get("scam_warnings", 0)),
            str(numbers.get("new_members", 0)), str(numbers.get("new_friends", 0))]


def stats_csv(totals: Totals, directory: Directory) -> str:
    """One row per group (and private chats), then the total."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(STATS_COLUMNS)
    whole: dict[str, int] = {}
    rows = []
    for room_id, numbers in totals.by_room.items():
        group = directory.group(room_id) if room_id else None
        name = group.name if group else (room_id or "私聊")
        category = CATEGORIES.get(group.category or "", "") if group else ""
        rows.append(_stats_row(name, category, numbers))
        for metric, value in numbers.items():
            whole[metric] = whole.get(metric, 0) + value
    writer.writerows(sorted(rows, key=lambda r: (r[1], r[0])))
    writer.writerow(_stats_row("合计", "", whole))
    return out.getvalue()
