"""Console accounts: created or reset from the command line, checked at login with argon2, locked
for a while after too many wrong passwords in a row."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.console import ConsoleAccount, all_accounts, get_account

# The console's roles and the chat role each acts with. A district account has no chat role: no
# command admits it, so it sees the overviews of the district's bots and the district statistics
# (counts, no names), and acts on nothing.
ROLES = {"officer": "officer", "staff": "staff", "district": "district"}
ROLE_NAMES = {"officer": "社区民警", "staff": "辅警/文职", "district": "分局（只看统计）"}
MIN_PASSWORD = 8
MAX_NAME = 64

_hasher = PasswordHasher()  # argon2id with the library's defaults (memory-hard)


class AccountError(ValueError):
    pass


def check_new(name: str, role: str, password: str) -> None:
    if not name.strip() or len(name) > MAX_NAME:
        raise AccountError(f"name: 1 to {MAX_NAME} characters")
    if role not in ROLES:
        raise AccountError(f"role: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")


async def save_account(session: AsyncSession, bot: str, name: str, role: str, password: str,
                       now: datetime) -> bool:
    """Create `bot`'s account or reset its role and password (and its lock); True when it is new."""
    check_new(name, role, password)
    hashed = await asyncio.to_thread(_hasher.hash, password)
    account = await get_account(session, bot, name)
    if account is None:
        session.add(ConsoleAccount(bot=bot, name=name, role=role, password_hash=hashed, failed_logins=0,
                                   locked_until=None, created_at=now, updated_at=now))
        return True
    account.role, account.password_hash, account.updated_at = role, hashed, now
    account.failed_logins, account.locked_until = 0, None
    return False


async def accounts(session: AsyncSession, bot: str) -> list[ConsoleAccount]:
    return await all_accounts(session, bot)


@dataclass(frozen=True)
class LoginResult:
    account: ConsoleAccount | None  # None: refused
    locked: bool = False  # refused because of too many wrong passwords in a row


async def login(session: AsyncSession, bot: str, name: str, password: str, now: datetime, *,
                max_failures: int, lock: timedelta) -> LoginResult:
    """Check a password; the `max_failures`-th wrong one in a row locks the account for `lock`,
    and while locked even the right password is refused (so guessing gains nothing)."""
    account = await get_account(session, bot, name)
    if account is None:
        await asyncio.to_thread(_waste, password)  # as slow as a real check: names are not probed
        return LoginResult(None)
    if account.locked_until is not None and account.locked_until > now:
        return LoginResult(None, locked=True)
    if await asyncio.to_thread(_verify, account.password_hash, password):
        account.failed_logins, account.locked_until = 0, None
        return LoginResult(account)
    account.failed_logins += 1
    if account.failed_logins >= max_failures:
        account.locked_until, account.failed_logins = now + lock, 0
    return LoginResult(None)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_DUMMY = _hasher.hash("not-an-account")


def _waste(password: str) -> None:
    _verify(_DUMMY, password)
