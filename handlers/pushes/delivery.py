"""Putting one push into the outbox: which notice each group gets, and the idempotency key that
makes a double fire or a restart harmless. The decisions are pure and live elsewhere: which groups
(targets), which days (push_calendar), which notice (notices.pick_notice); this reads what they
need from the database and writes what they decided."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory import Group
from bot.messages import Outgoing
from handlers.pushes.notices import (
    CUSTOM_PREFIX, Notice, default_notice_dir, load_notices, pick_notice, rotation_library,
)
from handlers.pushes.texts import KIND_HEADINGS
from storage import counters
from storage.pushes import CustomNotice, PushLog, active_custom_notices, disabled_notice_ids

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


class NoticeLibrary(list):
    """The built-in notices (files), loaded once at start: `app.service(NoticeLibrary)`."""


def load_library(app: App) -> NoticeLibrary:
    return NoticeLibrary(load_notices([default_notice_dir(), *app.config.pushes.notice_dirs]))


def custom_notice(row: CustomNotice) -> Notice:
    return Notice(id=f"{CUSTOM_PREFIX}{row.id}", type=row.type, title="", text=row.text)


async def current_library(app: App, session: AsyncSession) -> list[Notice]:
    """The notices this bot rotates through now: the files less the stopped ones, plus those added in chat."""
    stopped = await disabled_notice_ids(session, app.name)
    added = [custom_notice(r) for r in await active_custom_notices(session, app.name)]
    return rotation_library(app.service(NoticeLibrary), stopped, added)


async def has_notice(app: App, session: AsyncSession, notice_type: str | None) -> bool:
    """Whether a push of this type has anything to send once stopped and deleted ones are left out."""
    return any(notice_type is None or n.type == notice_type for n in await current_library(app, session))


@dataclass
class PushResult:
    groups: list[Group]
    queued: int  # groups that got a new outbox row (0 for a group: already queued before)


async def push_to_groups(app: App, session: AsyncSession, *, groups: list[Group], kind: str,
                         text: str | None, notice_type: str | None, dedup_prefix: str,
                         log_as: str, due: dt.datetime) -> PushResult:
    """Queue one push to each group in `session`; the caller commits."""
    now = app.clock.now()
    library = await current_library(app, session) if kind == "antifraud" else []
    queued = 0
    for group in groups:
        notice = None
        if kind == "antifraud":
            notice = await _next_notice(app, session, library, group, notice_type, now)
            if notice is None:
                log.error("no anti-fraud notice to push", extra={"type": notice_type, "room": group.id})
                continue
            body = notice.as_message()
        else:
            body = KIND_HEADINGS[kind] + (text or "")
        added = await app.send(session, Outgoing(group.id, None, body), respect_quiet=True,
                               dedup_key=f"{dedup_prefix}:{group.id}", source="push")
        if not added:
            continue  # a double fire or a re-run after a restart: this group has it already
        queued += 1
        if notice is not None:
            session.add(PushLog(bot=app.name, schedule_id=log_as, room_id=group.id, notice_id=notice.id,
                                due=due, sent_at=now))
        await counters.bump(session, app.name, now, "pushes", room_id=group.id,
                            category=group.category or "", key=kind)
    await session.flush()
    return PushResult(groups, queued)


async def _next_notice(app: App, session: AsyncSession, library: list[Notice], group: Group,
                       notice_type: str | None, now: dt.datetime) -> Notice | None:
    since = now - dt.timedelta(weeks=app.config.pushes.rotation_weeks)
    recent = (await session.execute(
        select(PushLog.notice_id).where(PushLog.bot == app.name, PushLog.room_id == group.id,
                                        PushLog.sent_at >= since)
        .order_by(PushLog.sent_at.desc(), PushLog.id.desc())
    )).scalars().all()
    today = now.astimezone(app.clock.tz).date()
    return pick_notice(library, list(recent), today, notice_type, rng=app.rng)
