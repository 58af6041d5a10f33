"""Scheduled pushes: the schedules officers created (and those config.yaml declares), which
anti-fraud notice went to which group when, for the rotation, and the notices officers added or
stopped in chat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Stamp


class PushScheduleRow(Base):
    """One schedule; its job "push:<id>" (scheduled_jobs) is written with it and checked against it at start."""

    __tablename__ = "push_schedules"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    when: Mapped[str] = mapped_column(String(80))  # the time expression as When.describe() writes it
    kind: Mapped[str] = mapped_column(String(16))  # antifraud | announcement | police_news
    target: Mapped[str] = mapped_column(String(128))
    text: Mapped[str | None] = mapped_column(Text)
    notice_type: Mapped[str | None] = mapped_column(String(16))  # an anti-fraud type, or any
    skip_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    grace_minutes: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(Stamp)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(8), default="chat")  # config | chat


class PushLog(Base):
    """An anti-fraud notice pushed to a group; the rotation reads the recent ones."""

    __tablename__ = "push_log"
    __table_args__ = (Index("ix_push_log_room", "bot", "room_id", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot: Mapped[str] = mapped_column(String(32))
    schedule_id: Mapped[str] = mapped_column(String(40))  # "now:<n>" for /反诈 pushes
    room_id: Mapped[str] = mapped_column(String(128))
    notice_id: Mapped[str] = mapped_column(String(80))
    due: Mapped[datetime] = mapped_column(Stamp)
    sent_at: Mapped[datetime] = mapped_column(Stamp)  # when it was queued


class CustomNotice(Base):
    """An anti-fraud notice an officer added in chat (/反诈 新增); it joins the file library's rotation.

    Deleting only marks the row: its number must never come back for another text, because the
    rotation remembers notices by id in push_log.
    """

    __tablename__ = "custom_notices"
    __table_args__ = (Index("ix_custom_notices_bot", "bot", "removed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(16))  # one of FRAUD_TYPES
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(Stamp)
    removed_by: Mapped[str | None] = mapped_column(String(128))
    removed_at: Mapped[datetime | None] = mapped_column(Stamp)


class DisabledNotice(Base):
    """A notice of the file library an officer stopped (/反诈 停用); /反诈 启用 deletes the row."""

    __tablename__ = "disabled_notices"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    notice_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    disabled_by: Mapped[str] = mapped_column(String(128))
    disabled_at: Mapped[datetime] = mapped_column(Stamp)


async def active_custom_notices(session: AsyncSession, bot: str) -> list[CustomNotice]:
    return list((await session.execute(
        select(CustomNotice).where(CustomNotice.bot == bot, CustomNotice.removed_at.is_(None))
        .order_by(CustomNotice.id))).scalars())


async def disabled_notice_ids(session: AsyncSession, bot: str) -> set[str]:
    return set((await session.execute(
        select(DisabledNotice.notice_id).where(DisabledNotice.bot == bot))).scalars())
