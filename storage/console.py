"""Accounts of the officers' web console: a name, a role, an argon2 hash, and the count of wrong
passwords in a row (the lock that follows them survives a restart). An account is one bot's: on a
district's shared database 张所 of 春晖里 is not an account of any other community's console."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Stamp

# Who acted, as the console writes it where a chat action writes the officer's contact id
# (audit rows, answered_by, closed_by): `console:张所`.
ACTOR_PREFIX = "console:"


def account_of(actor_id: str | None) -> str | None:
    """The console account behind an actor id (`console:张所` -> 张所); None for anyone else."""
    if actor_id and actor_id.startswith(ACTOR_PREFIX):
        return actor_id[len(ACTOR_PREFIX):] or None
    return None


class ConsoleAccount(Base):
    __tablename__ = "console_accounts"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(Stamp)
    created_at: Mapped[datetime] = mapped_column(Stamp)
    updated_at: Mapped[datetime] = mapped_column(Stamp)


async def get_account(session: AsyncSession, bot: str, name: str) -> ConsoleAccount | None:
    return await session.get(ConsoleAccount, (bot, name))


async def all_accounts(session: AsyncSession, bot: str) -> list[ConsoleAccount]:
    return list((await session.execute(select(ConsoleAccount).where(ConsoleAccount.bot == bot)
                                       .order_by(ConsoleAccount.name))).scalars())
