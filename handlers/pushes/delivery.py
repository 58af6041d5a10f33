"""Putting one push into the outbox: which groups a target means, which notice each group gets,
and the idempotency key that makes a double fire or a restart harmless."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CATEGORIES
from bot.directory import Directory, Group
from bot.messages import Outgoing
from bot.workcal import WorkCalendar
from handlers.pushes.notices import CUSTOM_PREFIX, Notice, default_notice_dir, load_notices, pick_notice
from storage import counters
from storage.pushes import CustomNotice, PushLog, active_custom_notices, disabled_notice_ids

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

ALL = ("全部", "所有群", "all")
CATEGORY_BY_NAME = {name: code for code, name in CATEGORIES.items()}
KIND_HEADINGS = {"announcement": "【社区公告】", "police_news": "【警务动态】"}


class NoticeLibrary(list):
    """The built-in notices (files), loaded once at start: `app.service(NoticeLibrary)`."""


def load_library(app: App) -> NoticeLibrary:
    return NoticeLibrary(load_notices([default_notice_dir(), *app.config.pushes.notice_dirs]))


def resolve_target(directory: Directory, target: str) -> list[Group] | None:
    """The groups a target names (None: it names nothing). Uncategorised groups get no pushes."""
    target = target.strip()
    categorised = sorted((g for g in directory.groups.values() if g.category), key=lambda g: g.name)
    if target in ALL:
        return categorised
    code = target if target in CATEGORIES else CATEGORY_BY_NAME.get(target)
    if code:
        return [g for g in categorised if g.category == code]
    group = directory.group_named(target)
    if group is None:
        return None
    return [group] if group.category else []


def custom_notice(row: CustomNotice) -> Notice:
    return Notice(id=f"{CUSTOM_PREFIX}{row.id}", type=row.type, title="", text=row.text)


async def current_library(app: App, session: AsyncSession) -> list[Notice]:
    """The notices this bot rotates through now: the files less the stopped ones, plus those added in chat."""
    disabled = await disabled_notice_ids(session, app.name)
    files = [n for n in app.service(NoticeLibrary) if n.id not in disabled]
    return files + [custom_notice(r) for r in await active_custom_notices(session, app.name)]


def skips_day(app: App, workdays_only: bool, skip_holidays: bool, day: dt.date) -> bool:
    """Whether a schedule stays silent on `day`: 工作日 schedules off work days, 节假日不发 ones on holidays."""
    if workdays_only and not app.calendar.is_workday(day):
        return True
    return skip_holidays and is_public_holiday(app, day)


def is_public_holiday(app: App, day: dt.date) -> bool:
    """A statutory day off (国庆, 春节 ...), including the weekend days inside such a break.

    A plain weekend is not a holiday here: "skip holidays" must not silence a Saturday schedule.
    """
    calendar: WorkCalendar = app.calendar
    if calendar.is_workday(day):
        return False
    if day.weekday() < 5:
        return True
    try:
        return chinese_calendar.get_holiday_detail(day)[1] is not None
    except NotImplementedError:
        return day in app.config.calendar.extra_holidays


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
        added = await app.outbox.enqueue(
            session, Outgoing(group.id, None, body), respect_quiet=True,
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
