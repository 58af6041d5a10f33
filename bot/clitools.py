"""What plugins' `jingmin` subcommands share with the core's: load the config or say why not,
open the database, reach the plugins' declarations without starting a bot."""

from __future__ import annotations

import sys
from typing import Any, Awaitable, Callable

from bot.config import Config, ConfigError, load_config
from bot.registry import Registry

DEFAULT_CONFIG = "config.yaml"


def _or_exit(load: Callable[[str], Any], path: str) -> Any:
    """`load(path)`, or one `config error: …` line per problem and exit code 2."""
    try:
        return load(path)
    except ConfigError as err:
        for line in err.problems:
            print(f"config error: {line}", file=sys.stderr)
        raise SystemExit(2) from None


def load_or_exit(path: str) -> Config:
    """The config, or one `config error: key: problem` line per problem and exit code 2."""
    return _or_exit(load_config, path)


def registry_for(config: Config) -> Registry:
    from bot.plugins import load_all

    return Registry(load_all(config.plugins))


async def with_database(config: Config, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `work(session)` in one transaction on the config's database (upgraded first)."""
    from storage import db

    engine = db.create_engine(config.database_url)
    try:
        await db.upgrade(engine)
        async with db.session_factory(engine).begin() as session:
            return await work(session)
    finally:
        await engine.dispose()


def add_config_option(parser) -> None:
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: config.yaml)")


def district_commands(sub):
    """The subcommands of `jingmin district` (the core's and the plugins' share one parser)."""
    import argparse

    parser = sub.choices.get("district")
    if parser is None:
        parser = sub.add_parser("district", help="a district: many community bots on one database")
    for action in parser._actions:  # argparse keeps a parser's subcommands as one such action
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="district_command", required=True)


def load_district_or_exit(path: str):
    """The district file, or one `config error: FILE: key: problem` line per problem and exit code 2."""
    from bot.district import load_district

    return _or_exit(load_district, path)
