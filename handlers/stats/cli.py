"""`jingmin stats` and `jingmin export registers`: the numbers and the registers from the shell."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, datetime
from pathlib import Path

from bot.clitools import (add_config_option, district_commands, load_district_or_exit, load_or_exit, registry_for,
                          with_database)
from bot.config import CATEGORIES
from bot.directory import Directory
from storage.stats import Scope


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-12-07") from None


def extend(sub) -> None:
    p = sub.add_parser("stats", help="print the statistics of a date range")
    p.add_argument("--from", dest="start", type=_day, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=_day, required=True, help="last day, YYYY-MM-DD")
    p.add_argument("--group", help="a group name or a category (resident, 居民群 ...)")
    p.add_argument("--csv", action="store_true", help="one CSV row per group instead of the report text")
    add_config_option(p)
    p.set_defaults(func=cmd_stats)

    p = district_commands(sub).add_parser("stats", help="the statistics of every community of a district")
    p.add_argument("--district", required=True, help="the district file (district.yaml)")
    p.add_argument("--from", dest="start", type=_day, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=_day, required=True, help="last day, YYYY-MM-DD")
    p.add_argument("--csv", action="store_true", help="one CSV row per community and category")
    p.add_argument("--database", help="database URL (default: the first community config's)")
    p.set_defaults(func=cmd_district_stats)

    p = sub.add_parser("export", help="export the registers")
    ex = p.add_subparsers(dest="export_command", required=True)
    reg = ex.add_parser("registers", help="接待服务登记簿 and 矛盾纠纷排查化解登记簿 as CSV and XLSX")
    reg.add_argument("--from", dest="start", type=_day, required=True)
    reg.add_argument("--to", dest="end", type=_day, required=True)
    reg.add_argument("--out", help="folder for the files (default: exports/ in data_dir, as /预约 导出)")
    add_config_option(reg)
    reg.set_defaults(func=cmd_export_registers)


def _scope(directory: Directory, name: str | None) -> Scope | None:
    if not name:
        return Scope()
    group = directory.group_named(name)
    if group:
        return Scope(room_id=group.id)
    for code, label in CATEGORIES.items():
        if name in (code, label):
            return Scope(category=code)
    return None


def cmd_stats(args: argparse.Namespace) -> int:
    from handlers.stats import report as reports
    from handlers.stats.export import stats_csv

    config = load_or_exit(args.config)
    if args.start > args.end:
        print("error: --from is after --to", file=sys.stderr)
        return 2
    period = reports.Period(args.start, args.end)

    async def work(session):
        directory = Directory(config.bot.name)
        await directory.load(session)
        scope = _scope(directory, args.group)
        if scope is None:
            return None
        data = await reports.gather(session, config.bot.name, period, scope, today=datetime.now(config.bot.tz).date())
        if args.csv:
            return stats_csv(data.current, directory)
        what = f"（{args.group}）" if args.group else ""
        return reports.render(data, config, directory, weekly=False, what=what, by_category=scope.room_id is None)

    out = asyncio.run(with_database(config, work))
    if out is None:
        print(f"error: no group or category named '{args.group}'", file=sys.stderr)
        return 2
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0


def cmd_district_stats(args: argparse.Namespace) -> int:
    from handlers.stats import district as districts
    from handlers.stats import report as reports

    district = load_district_or_exit(args.district)
    if not district.communities:
        print(f"error: {args.district}: communities: none listed", file=sys.stderr)
        return 2
    if args.start > args.end:
        print("error: --from is after --to", file=sys.stderr)
        return 2
    first = district.config_path(district.communities[0])
    if first is None:
        print(f"error: {args.district}: communities[0].config: needed for the database and time zone", file=sys.stderr)
        return 2
    config = load_or_exit(str(first))
    if args.database:
        config = config.model_copy(update={"database": config.database.model_copy(update={"url": args.database})})
    period = reports.Period(args.start, args.end)

    async def work(session):
        data = await districts.gather(session, district, period, config.bot.tz,
                                      today=datetime.now(config.bot.tz).date())
        return districts.to_csv(data) if args.csv else districts.render(data, config, weekly=False, top=None)

    out = asyncio.run(with_database(config, work))
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0


def cmd_export_registers(args: argparse.Namespace) -> int:
    from bot import register_files
    from storage import registers

    config = load_or_exit(args.config)
    if args.start > args.end:
        print("error: --from is after --to", file=sys.stderr)
        return 2
    registry = registry_for(config)
    out = Path(args.out) if args.out else None

    async def work(session):
        return {code: await register_files.export(session, config, registry, code, args.start, args.end, out)
                for code in registers.REGISTERS}

    for code, (n, csv_path, xlsx_path) in asyncio.run(with_database(config, work)).items():
        print(f"{registers.REGISTERS[code].title}: {n} rows -> {csv_path}, {xlsx_path}")
    return 0
