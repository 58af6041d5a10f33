"""`jingmin console add-user NAME --role R [--password-stdin]` and `jingmin console users`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from bot.clitools import add_config_option, load_or_exit, with_database
from handlers.console.accounts import ROLE_NAMES, ROLES, AccountError, accounts, save_account


def extend(sub) -> None:
    p = sub.add_parser("console", help="accounts of the officers' web console (/console/)")
    cs = p.add_subparsers(dest="console_command", required=True)
    add = cs.add_parser("add-user", help="create an account, or reset its role and password")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=list(ROLES))
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (first line)")
    add_config_option(add)
    add.set_defaults(func=cmd_add_user)
    users = cs.add_parser("users", help="list the accounts")
    add_config_option(users)
    users.set_defaults(func=cmd_users)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise AccountError("password: the two entries differ")
    return first


def cmd_add_user(args: argparse.Namespace) -> int:
    from bot.clock import SystemClock

    config = load_or_exit(args.config)
    try:
        password = _password(args.password_stdin)
        new = asyncio.run(with_database(config, lambda s: save_account(
            s, config.bot.name, args.name, args.role, password, SystemClock().now())))
    except AccountError as error:
        print(f"jingmin: {error}", file=sys.stderr)
        return 2
    print(f"{'created' if new else 'reset'} console account {args.name} ({args.role})")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    rows = asyncio.run(with_database(config, lambda s: accounts(s, config.bot.name)))
    if not rows:
        print("no console accounts (add one with: jingmin console add-user NAME --role officer)")
    for a in rows:
        locked = f"  locked until {a.locked_until:%Y-%m-%d %H:%M} UTC" if a.locked_until else ""
        print(f"{a.name}\t{a.role}\t{ROLE_NAMES[a.role]}\tsince {a.created_at:%Y-%m-%d}{locked}")
    return 0
