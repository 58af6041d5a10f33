"""Scheduled pushes: the schedules officers created (and those config.yaml declares), and which
anti-fraud notice went to which group when, for the rotation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Stamp


class PushScheduleRow(Base):
    """One schedule; the APScheduler job "push:<id>" is rebuilt from it at start."""

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
