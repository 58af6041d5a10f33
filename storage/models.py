"""Core tables. Feature tables live beside this module (storage/<feature>.py) on the same Base."""

from __future__ import annotations

from datetime import date, datetime

from datetime import timezone

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, Index, Integer, LargeBinary, MetaData, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware datetimes out: SQLite would otherwise hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; pass an aware one (use the Clock)")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


Stamp = UTCDateTime()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Contact(Base):
    """A WeChat contact the bot must remember: someone with a role, a friend, or in a flow."""

    __tablename__ = "contacts"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16), default="resident")
    role_source: Mapped[str] = mapped_column(String(16), default="default")  # config | bind | default
    is_friend: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(Stamp)


class Room(Base):
    """A group chat, known by its stable room id: a renamed group stays the same group."""

    __tablename__ = "rooms"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    category: Mapped[str | None] = mapped_column(String(16))
    member_count: Mapped[int] = mapped_column(default=0)
    last_active_at: Mapped[datetime | None] = mapped_column(Stamp)
    created_at: Mapped[datetime] = mapped_column(Stamp)


class ProcessedMessage(Base):
    """Ids of messages already handled, so a redelivered message is handled once."""

    __tablename__ = "processed_messages"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(Stamp, index=True)


class DialogState(Base):
    """A half-finished dialog (booking, tip ...); kept here so a restart loses nothing."""

    __tablename__ = "dialog_states"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    dialog: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    history: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(Stamp)
    expires_at: Mapped[datetime] = mapped_column(Stamp)


class OutboxMessage(Base):
    """Every outgoing message, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "bot", "status", "priority", "not_before"),
        UniqueConstraint("bot", "dedup_key", name="uq_outbox_dedup"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot: Mapped[str] = mapped_column(String(32))
    room_id: Mapped[str | None] = mapped_column(String(128))
    contact_id: Mapped[str | None] = mapped_column(String(128))
    mention_ids: Mapped[list] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(8), default="text")
    body: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending sending sent failed uncertain
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(Stamp)
    created_at: Mapped[datetime] = mapped_column(Stamp)
    sent_at: Mapped[datetime | None] = mapped_column(Stamp)
    # Idempotency for pushes and reminders: e.g. "push:<schedule>:<due>:<room>".
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32), default="reply")


class AuditEntry(Base):
    """Who ran which officer/staff command, where, when, and what came of it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(Stamp, index=True)
    actor_id: Mapped[str] = mapped_column(String(128))
    actor_role: Mapped[str] = mapped_column(String(16))
    room_id: Mapped[str | None] = mapped_column(String(128))
    command: Mapped[str] = mapped_column(String(64))
    args: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(200), default="ok")


class BindCode(Base):
    """A one-time code that binds the contact who sends it (privately) to a role."""

    __tablename__ = "bind_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    bot: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(Stamp)
    used_by: Mapped[str | None] = mapped_column(String(128))
    used_at: Mapped[datetime | None] = mapped_column(Stamp)


class Counter(Base):
    """A count per bot, day, hour (-1 = whole day), room ('' = private chats), metric and key."""

    __tablename__ = "counters"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), default="")
    value: Mapped[int] = mapped_column(default=0)


class ActiveSender(Base):
    """Distinct senders per room and day, by a keyed hash: counts people without naming them."""

    __tablename__ = "active_senders"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    room_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    sender_hash: Mapped[str] = mapped_column(String(32), primary_key=True)


class ScheduledJob(Base):
    """A job of the scheduler (bot.scheduler): what to run, when next, and how late it may run.

    Written in the same transaction as the rows it belongs to (a push schedule, a queued friend
    request), so a job never outlives a rolled-back change and a restart loses none."""

    __tablename__ = "scheduled_jobs"

    bot: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(191), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    trigger: Mapped[bytes] = mapped_column(LargeBinary)  # an APScheduler trigger, pickled
    next_run_at: Mapped[datetime | None] = mapped_column(Stamp)  # None: paused
    grace_seconds: Mapped[int] = mapped_column(Integer)
    coalesce: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped by every change: a run's bookkeeping applies only to the revision it fired.
    revision: Mapped[int] = mapped_column(Integer, default=0)
