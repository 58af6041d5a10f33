"""Tip reports (线索举报): the tip, its attachments, officers' replies, and the daily quota.

What is never stored in plain text: the reporter's contact id (Fernet, only so replies can be
delivered), the receipt (a keyed hash), the tip's text and attachments (Fernet). The quota is
counted by a keyed hash that includes the day, so it links no two tips of one reporter.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from collections.abc import Collection

from sqlalchemy import (
    ForeignKey, Index, Integer, LargeBinary, String, Text, and_, delete, func, or_, select, update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Contact, OutboxMessage, Stamp
from storage.upsert import insert_for

OPEN, CLOSED = "open", "closed"
OUTBOX_SOURCE = "tip"
NOTICE_SOURCE = "tip-notice"  # the officers' and unit group's notice of a new tip


class Tip(Base):
    __tablename__ = "tips"
    __table_args__ = (Index("ix_tips_bot_status", "bot", "status", "created_at"),
                      Index("ix_tips_unit_bot", "unit_bot", "status", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot: Mapped[str] = mapped_column(String(32))  # the reporter's bot: every message to them goes through it
    category: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(64), default="")
    # A district unit's bot, when the tip was routed to a unit another bot (or this one) reaches:
    # the unit's officers see and answer it there.
    unit_bot: Mapped[str | None] = mapped_column(String(32))
    body_enc: Mapped[str] = mapped_column(Text)  # what happened (Fernet)
    when_where_enc: Mapped[str | None] = mapped_column(Text)  # Fernet; None: skipped
    # Left empty: even masked, the first words of a tip are its content. The summary officers
    # see is made from the encrypted body when it is shown (handlers.tips.receipts.summarise).
    summary: Mapped[str] = mapped_column(String(64), default="")
    confidential: Mapped[bool] = mapped_column(default=True)
    reporter_enc: Mapped[str] = mapped_column(Text)  # contact id (Fernet), to deliver replies
    reporter_name_enc: Mapped[str | None] = mapped_column(Text)  # only when not confidential
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(8), default=OPEN)
    created_at: Mapped[datetime] = mapped_column(Stamp)
    first_reply_at: Mapped[datetime | None] = mapped_column(Stamp)
    closed_at: Mapped[datetime | None] = mapped_column(Stamp)
    result: Mapped[str | None] = mapped_column(Text)


class TipAttachment(Base):
    """An image or file sent during the dialog; tip_id stays None until the tip is confirmed."""

    __tablename__ = "tip_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot: Mapped[str] = mapped_column(String(32))
    tip_id: Mapped[int | None] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(128), default="")
    size: Mapped[int] = mapped_column(default=0)
    data_enc: Mapped[bytes] = mapped_column(LargeBinary)  # Fernet token of the bytes
    created_at: Mapped[datetime] = mapped_column(Stamp)


class TipReply(Base):
    """What officers told the reporter: replies and the closing result, shown on 查询."""

    __tablename__ = "tip_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(Stamp)
    kind: Mapped[str] = mapped_column(String(8))  # reply | close
    text: Mapped[str] = mapped_column(Text)


class TipQuota(Base):
    """Tips per reporter and day, by a keyed hash of (day, contact id)."""

    __tablename__ = "tip_quota"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    reporter_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


# ---- queries ---------------------------------------------------------------------------------

async def used_today(session: AsyncSession, bot: str, day: date, reporter_hash: str) -> int:
    row = await session.get(TipQuota, (bot, day, reporter_hash))
    return row.n if row else 0


async def use_quota(session: AsyncSession, bot: str, day: date, reporter_hash: str) -> None:
    insert = insert_for(session)
    stmt = insert(TipQuota).values(bot=bot, day=day, reporter_hash=reporter_hash, n=1)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["bot", "day", "reporter_hash"], set_={"n": TipQuota.n + 1}))


async def by_receipt(session: AsyncSession, receipt_hash: str) -> Tip | None:
    return (await session.execute(select(Tip).where(Tip.receipt_hash == receipt_hash))).scalar_one_or_none()


def _visible(bot: str, units: Collection[str]):
    """The tips `bot`'s officers see: its own, and (`units`) those routed to these units through it."""
    own = Tip.bot == bot
    return or_(own, and_(Tip.unit_bot == bot, Tip.unit.in_(list(units)))) if units else own


async def get(session: AsyncSession, bot: str, tip_id: int, units: Collection[str] = ()) -> Tip | None:
    return (await session.execute(select(Tip).where(Tip.id == tip_id, _visible(bot, units)))).scalar_one_or_none()


async def open_tips(session: AsyncSession, bot: str, limit: int = 30, units: Collection[str] = ()) -> list[Tip]:
    return list((await session.execute(
        select(Tip).where(_visible(bot, units), Tip.status == OPEN).order_by(Tip.created_at, Tip.id).limit(limit)
    )).scalars())


async def config_contacts_named(session: AsyncSession, bot: str, names: Collection[str],
                                roles: Collection[str]) -> list[tuple[str, str]]:
    """(contact id, name) of `bot`'s contacts from its config with these names and one of these
    roles: how another bot of the district finds a unit's officers (their bot wrote them at start)."""
    rows = await session.execute(select(Contact.id, Contact.name).where(
        Contact.bot == bot, Contact.name.in_(list(names)), Contact.role_source == "config",
        Contact.role.in_(list(roles))).order_by(Contact.name))
    return [(i, n) for i, n in rows]


async def officer_ids(session: AsyncSession, bot: str) -> list[str]:
    """`bot`'s officers (民警): who hears how a tip it took ended, when another bot's unit closed it."""
    return list((await session.execute(select(Contact.id).where(
        Contact.bot == bot, Contact.role == "officer").order_by(Contact.id))).scalars())


async def open_count(session: AsyncSession, bot: str) -> int:
    return (await session.execute(select(func.count()).select_from(Tip).where(
        Tip.bot == bot, Tip.status == OPEN))).scalar_one()


async def overdue_count(session: AsyncSession, bot: str, now: datetime, hours: int) -> int:
    """Tips still without an officer reply `hours` after they came in (the weekly report's figure)."""
    return (await session.execute(select(func.count()).select_from(Tip).where(
        Tip.bot == bot, Tip.first_reply_at.is_(None), Tip.created_at <= now - timedelta(hours=hours),
        Tip.status == OPEN))).scalar_one()


async def replies(session: AsyncSession, tip_id: int) -> list[TipReply]:
    return list((await session.execute(
        select(TipReply).where(TipReply.tip_id == tip_id).order_by(TipReply.at, TipReply.id))).scalars())


async def attachment_count(session: AsyncSession, tip_id: int) -> int:
    return (await session.execute(select(func.count()).select_from(TipAttachment)
                                  .where(TipAttachment.tip_id == tip_id))).scalar_one()


async def attachments_of(session: AsyncSession, tip_id: int) -> list[TipAttachment]:
    return list((await session.execute(
        select(TipAttachment).where(TipAttachment.tip_id == tip_id).order_by(TipAttachment.id))).scalars())


async def files_waiting(session: AsyncSession, bot: str) -> set[str]:
    """Paths of tip files the outbox has still to send."""
    return set((await session.execute(select(OutboxMessage.body).where(
        OutboxMessage.bot == bot, OutboxMessage.source == OUTBOX_SOURCE, OutboxMessage.kind.in_(("image", "file")),
        OutboxMessage.status.in_(("pending", "sending"))))).scalars())


async def attach(session: AsyncSession, bot: str, ids: list[int], tip_id: int) -> None:
    if ids:
        await session.execute(update(TipAttachment).where(
            TipAttachment.bot == bot, TipAttachment.id.in_(ids), TipAttachment.tip_id.is_(None))
            .values(tip_id=tip_id))


async def drop_drafts(session: AsyncSession, bot: str, ids: list[int] | None = None,
                      older_than: datetime | None = None) -> None:
    """Attachments of dialogs that were cancelled or abandoned."""
    stmt = delete(TipAttachment).where(TipAttachment.bot == bot, TipAttachment.tip_id.is_(None))
    if ids is not None:
        stmt = stmt.where(TipAttachment.id.in_(ids or [-1]))
    if older_than is not None:
        stmt = stmt.where(TipAttachment.created_at < older_than)
    await session.execute(stmt)


async def forget_recipients(session: AsyncSession, bot: str) -> None:
    """Clear recipient and text of tip messages that are out (or will never go)."""
    await session.execute(update(OutboxMessage).where(
        OutboxMessage.bot == bot, OutboxMessage.source.in_((OUTBOX_SOURCE, NOTICE_SOURCE)),
        OutboxMessage.status.in_(("sent", "failed", "uncertain")), OutboxMessage.body != "",
    ).values(contact_id=None, body=""))


async def counts_by_unit(session: AsyncSession, bots: list[str], start: datetime, end: datetime) -> dict[str, dict[str, int]]:
    """Tips that came in during [start, end) per bot and unit ('' : the community's own officers),
    in one query. Only counts: no tip's words leave this function."""
    q = (select(Tip.bot, Tip.unit, func.count()).where(Tip.bot.in_(bots), Tip.created_at >= start,
                                                        Tip.created_at < end)
         .group_by(Tip.bot, Tip.unit))
    result: dict[str, dict[str, int]] = {bot: {} for bot in bots}
    for bot, unit, n in await session.execute(q):
        result[bot][unit or ""] = int(n)
    return result
