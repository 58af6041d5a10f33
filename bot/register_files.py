"""The registers as files (CSV for Excel, and XLSX): one writer for `jingmin export registers`
and every chat command that exports one, so the office gets one format whatever asked for it.

Knows no feature: the rows come from the providers plugins declared (storage.registers)."""

from __future__ import annotations

import csv
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import registers
from storage.registers import Register, RegisterRow

# CSV for Excel on Windows: the BOM makes it read the file as UTF-8, not GBK.
CSV_ENCODING = "utf-8-sig"
EXPORTS = "exports"  # the folder under data_dir


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
    # openpyxl costs 28 MB of a running bot's memory: imported only when a register is written.
    from openpyxl import Workbook
    from openpyxl.styles import Font

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


async def export(session: AsyncSession, config: Any, registry, code: str, start: date, end: date,
                 out_dir: Path | None = None) -> tuple[int, Path, Path]:
    """Register `code` for days [start, end] in the bot's zone: (rows, csv path, xlsx path).
    Files go to data_dir/exports unless `out_dir` says otherwise."""
    tz = config.bot.tz
    rows = await registers.collect(session, config, registry.rows_for(code), start, end, tz)
    csv_path, xlsx_path = write_register(registers.REGISTERS[code], rows, tz, out_dir or config.data_path / EXPORTS,
                                         start, end)
    return len(rows), csv_path, xlsx_path
