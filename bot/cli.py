"""`jingmin`: run the bot, check its config, upgrade its database, hand out role codes."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot import __version__
from bot.config import ROLES, Config, ConfigError, load_config
from bot.logs import setup_logging

log = logging.getLogger("jingmin")

DEFAULT_CONFIG = "config.yaml"


def _load(path: str) -> Config:
    try:
        return load_config(path)
    except ConfigError as err:
        for line in err.problems:
            print(f"config error: {line}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_check_config(args: argparse.Namespace) -> int:
    config = _load(args.config)
    print(f"{args.config}: ok ({len(config.groups)} groups, {len(config.contacts)} contacts, "
          f"{len(config.services)} services, {len(config.guide)} guide entries, "
          f"{len(config.pushes.schedules)} push schedules)")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from storage import db

    config = _load(args.config)

    async def run() -> None:
        engine = db.create_engine(config.database.url)
        try:
            await db.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print("database schema is up to date")
    return 0


def cmd_bind_code(args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from handlers.admin import CODE_TTL, create_bind_code
    from storage import db

    config = _load(args.config)

    async def run() -> str:
        engine = db.create_engine(config.database.url)
        try:
            await db.upgrade(engine)
            async with db.session_factory(engine).begin() as session:
                code = await create_bind_code(session, config.bot.name, args.role, SystemClock().now())
                return code.code
        finally:
            await engine.dispose()

    code = asyncio.run(run())
    minutes = int(CODE_TTL.total_seconds() // 60)
    print(f"{code}\n(send this code to the bot in a private chat within {minutes} minutes to become {args.role})")
    return 0


def secret_key_for(config: Config) -> str:
    from bot.vault import load_or_create_key

    if config.security.secret_key is None and config.bot.transport == "wechaty":
        print("config error: security.secret_key: required with the wechaty transport "
              "(set JINGMIN_SECRET_KEY)", file=sys.stderr)
        raise SystemExit(2)
    return load_or_create_key(config.security.secret_key, Path("data/secret.key"))


def cmd_run(args: argparse.Namespace) -> int:
    config = _load(args.config)
    setup_logging(config.bot.log_level)
    from bot.runner import run_bot

    try:
        return asyncio.run(run_bot(config, secret_key_for(config)))
    except KeyboardInterrupt:
        return 0


def cmd_simulator(args: argparse.Namespace) -> int:
    config = _load(args.config)
    setup_logging(config.bot.log_level)
    from bot.runner import run_simulator

    http_port = config.wechat.web_port if args.http_port is None else args.http_port
    try:
        return asyncio.run(run_simulator(config, args.port, http_port, args.host))
    except KeyboardInterrupt:
        return 0


def cmd_sim(args: argparse.Namespace) -> int:
    from bot.scenario import run_script

    return run_script(args.script)


def cmd_classify(args: argparse.Namespace) -> int:
    """stdin: one message a line; stdout: one JSON object a line (text, intent, confidence, detail)."""
    import json

    from handlers import classify

    for line in sys.stdin:
        text = line.rstrip("\r\n")
        found = classify(text)
        print(json.dumps({"text": text, "intent": found.intent, "confidence": found.confidence,
                          "detail": found.detail}, ensure_ascii=False), flush=args.flush)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jingmin", description="警民群助手: WeChat bot for community police")
    parser.add_argument("--version", action="version", version=f"jingmin {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="start the bot")
    p.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: config.yaml)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check-config", help="validate a config file and exit")
    p.add_argument("config", nargs="?", default=DEFAULT_CONFIG)
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("db", help="database maintenance")
    dbsub = p.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="upgrade the schema to the latest version")
    up.add_argument("--config", default=DEFAULT_CONFIG)
    up.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("bind-code", help="print a one-time code that binds a contact to a role")
    p.add_argument("--role", required=True, choices=list(ROLES))
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.set_defaults(func=cmd_bind_code)

    p = sub.add_parser("classify", help="read messages from stdin, print their intents as JSON lines")
    p.add_argument("--flush", action="store_true", help="flush after every line (for pipes)")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("simulator", help="run only the simulated WeChat (gRPC puppet service + web page/API)")
    p.add_argument("--port", type=int, default=8788, help="gRPC port the bot connects to (default 8788)")
    p.add_argument("--http-port", type=int, default=None, help="web page and API port (default wechat.web_port)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.set_defaults(func=cmd_simulator)

    p = sub.add_parser("sim", help="play a scenario file against a fresh bot, print what it sent as JSON lines")
    p.add_argument("--script", required=True, help="scenario YAML (see SCENARIOS.md)")
    p.set_defaults(func=cmd_sim)

    for extend in _EXTENSIONS:
        extend(sub)
    return parser


def _stats_commands(sub) -> None:
    from handlers.stats.cli import extend

    extend(sub)


# Feature issues add their subcommands (sim, classify, stats, export) here.
_EXTENSIONS: list = [_stats_commands]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
