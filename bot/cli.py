"""`jingmin`: run the bot, check its config, upgrade its database, hand out role codes."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot import __version__
from bot.clitools import DEFAULT_CONFIG, add_config_option, load_or_exit, registry_for
from bot.config import Config
from bot.logs import setup_logging

log = logging.getLogger("jingmin")

def cmd_check_config(args: argparse.Namespace) -> int:
    if args.district:
        return check_district_file(args.district)
    config = load_or_exit(args.config)
    plugins = registry_for(config).plugins
    print(f"{args.config}: ok ({len(config.groups)} groups, {len(config.contacts)} contacts, "
          f"{len(plugins)} plugins: {', '.join(p.name for p in plugins)})")
    for line in calendar_warnings(config):
        print(f"warning: {line}")
    return 0


def check_district_file(path: str) -> int:
    """`check-config --district FILE`: the district file and each community config it names."""
    from bot.district import check_district

    district, configs, problems = check_district(path)
    for line in problems:
        print(f"config error: {line}", file=sys.stderr)
    if problems:
        return 2
    report = f", report to {district.report_room} by {district.report_bot}" if district.report_bot else ""
    print(f"{path}: ok ({len(district.communities)} communities, {len(district.units)} units, "
          f"{len(district.schedules)} schedules{report})")
    for community in district.communities:
        config = configs[community.bot]
        print(f"  {community.bot}: {community.config} ok ({config.bot.community}, {len(config.groups)} groups, "
              f"{len(config.contacts)} contacts)")
    return 0


def calendar_warnings(config: Config, today=None) -> list[str]:
    """This year and next that the holiday data does not know and config.yaml does not fill."""
    from datetime import datetime

    from bot.workcal import WorkCalendar, unknown_year_warning

    today = today or datetime.now(config.bot.tz).date()
    calendar = WorkCalendar(config.calendar.extra_holidays, config.calendar.extra_workdays)
    return [f"calendar: {unknown_year_warning(year)}" for year in (today.year, today.year + 1)
            if not calendar.knows_year(year) and not calendar.has_local_days(year)]


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from storage import db

    config = load_or_exit(args.config)

    async def run() -> None:
        engine = db.create_engine(config.database_url)
        try:
            await db.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print("database schema is up to date")
    return 0


def cmd_db_copy(args: argparse.Namespace) -> int:
    """Copy this community's rows into another database (the district's), migrated to head first."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from bot.config import DatabaseSettings
    from storage import db
    from storage.copy import TargetHasBot, copy_bot

    config = load_or_exit(args.config)
    bot = config.bot.name
    try:
        DatabaseSettings(url=args.to)  # the drivers the bot itself accepts
        same = make_url(args.to).render_as_string(hide_password=False) == config.database_url
    except (ValueError, ArgumentError):
        print(f"error: --to: '{args.to}' is not a database URL (postgresql+asyncpg://… or sqlite+aiosqlite:///…)",
              file=sys.stderr)
        return 2
    if same:
        print("error: --to is this community's own database", file=sys.stderr)
        return 2

    async def run():
        from bot.instance import InstanceLock

        source, target = db.create_engine(config.database_url), db.create_engine(args.to)
        # The bot must not run on either side while its rows move: its lock, as a second start would take it.
        locks = [InstanceLock(source, bot, note="jingmin db copy"), InstanceLock(target, bot, note="jingmin db copy")]
        try:
            for lock in locks:
                await lock.acquire()
            await db.upgrade(source)
            await db.upgrade(target)
            async with source.connect() as src, target.connect() as dst:
                async with dst.begin() as transaction:
                    result = await copy_bot(src, dst, bot)
                    if not result.ok:  # a checksum that differs keeps nothing
                        await transaction.rollback()
                return result
        finally:
            for lock in locks:
                await lock.release()
            await source.dispose()
            await target.dispose()

    from bot.instance import AlreadyRunning

    try:
        result = asyncio.run(run())
    except (TargetHasBot, AlreadyRunning) as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 1
    width = max(len(t.name) for t in result.tables)
    for t in result.tables:
        note = "  (renumbered: the target held these numbers)" if t.renumbered else ""
        print(f"{t.name:<{width}}  {t.rows:>7} rows  source {t.source_sum}  target {t.target_sum}  "
              f"{'ok' if t.ok else 'MISMATCH'}{note}")
    for name, why in result.skipped.items():
        print(f"{name:<{width}}  not copied: {why}")
    total = sum(t.rows for t in result.tables)
    print(f"bot {bot}: {total} rows copied; checksum source {result.checksum('source')} "
          f"target {result.checksum('target')} {'ok' if result.ok else 'MISMATCH'}")
    print("next: point this community's database.url (or JINGMIN_DATABASE_URL) at the target and start the bot"
          if result.ok else "nothing was kept in the target")
    return 0 if result.ok else 1


def secret_key_for(config: Config) -> str:
    from bot.vault import load_or_create_key

    if config.security.secret_key is None and config.bot.transport == "wechaty":
        print("config error: security.secret_key: required with the wechaty transport "
              "(set JINGMIN_SECRET_KEY)", file=sys.stderr)
        raise SystemExit(2)
    return load_or_create_key(config.security.secret_key, config.data_path / "secret.key")


def cmd_run(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    setup_logging(config.bot.log_level)
    from bot.runner import run_bot

    try:
        return asyncio.run(run_bot(config, secret_key_for(config)))
    except KeyboardInterrupt:
        return 0


def cmd_simulator(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    setup_logging(config.bot.log_level)
    from bot.runner import run_simulator

    http_port = config.wechat.web_port if args.http_port is None else args.http_port
    try:
        return asyncio.run(run_simulator(config, args.port, http_port, args.host))
    except KeyboardInterrupt:
        return 0


def cmd_sim(args: argparse.Namespace) -> int:
    from bot.scenario import run_script

    return run_script(args.script, args.database)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jingmin", description="警民群助手: WeChat bot for community police")
    parser.add_argument("--version", action="version", version=f"jingmin {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="start the bot")
    add_config_option(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check-config", help="validate a config file and exit")
    p.add_argument("config", nargs="?", default=DEFAULT_CONFIG)
    p.add_argument("--district", help="check a district file and every community config it names instead")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("db", help="database maintenance")
    dbsub = p.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="upgrade the schema to the latest version")
    up.add_argument("--config", default=DEFAULT_CONFIG)
    up.set_defaults(func=cmd_db_upgrade)
    cp = dbsub.add_parser("copy", help="copy this community's rows into another database (a district's), "
                                       "with row counts and checksums; stop the bot first")
    cp.add_argument("--to", required=True, help="target database URL, e.g. postgresql+asyncpg://jingmin@db/district")
    cp.add_argument("--config", default=DEFAULT_CONFIG)
    cp.set_defaults(func=cmd_db_copy)

    p = sub.add_parser("simulator", help="run only the simulated WeChat (gRPC puppet service + web page/API)")
    p.add_argument("--port", type=int, default=8788, help="gRPC port the bot connects to (default 8788)")
    p.add_argument("--http-port", type=int, default=None, help="web page and API port (default wechat.web_port)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.set_defaults(func=cmd_simulator)

    p = sub.add_parser("sim", help="play a scenario file against a fresh bot, print what it sent as JSON lines")
    p.add_argument("--script", required=True, help="scenario YAML (see SCENARIOS.md)")
    p.add_argument("--database", default=None,
                   help="a PostgreSQL URL: run on a new database on that server (default: a temporary SQLite file)")
    p.set_defaults(func=cmd_sim)

    add_plugin_commands(sub)
    return parser


def add_plugin_commands(sub) -> None:
    """Each plugin's `jingmin` subcommands (plugin.cli), from the installed plugins."""
    from bot.plugins import available, load

    for name in available():
        try:
            extensions = load(name).cli_extensions
        except Exception as error:  # one broken plugin must not take `jingmin run` with it
            print(f"jingmin: plugin '{name}' cannot be loaded ({type(error).__name__}: {error}); "
                  "its commands are missing", file=sys.stderr)
            continue
        for extend in extensions:
            extend(sub)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
