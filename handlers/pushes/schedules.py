"""Schedules in the database (push_schedules) and their scheduler jobs ("push:<id>", in scheduled_jobs).

config.yaml's schedules are copied into push_schedules at every start (source "config") so that
/计划 lists them and a pause survives a restart, and so are the district file's (source
"district", see district.py); chat-created ones (source "chat") live only there.
A schedule's job is written in the same transaction as its row (`session=`), so the two never
disagree. A job is only replaced when its schedule changed: replacing recomputes the next run
from now, and a push that was due while the bot was down would silently be lost instead of sent
within grace.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.pushes import district
from handlers.pushes.config import PushSchedule
from handlers.pushes.push_calendar import PushCalendar
from handlers.pushes.targets import resolve_target
from handlers.pushes.timeexpr import TimeExprError, When, parse_when
from storage.pushes import PushScheduleRow

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

JOB_KIND = "push"
# Stored expressions are When.describe() output; parsed against a fixed past "now" so a one-off
# date that has gone by still reads back (the job decides what to do with it).
_EPOCH = dt.datetime(2000, 1, 1)


def job_id(schedule_id: str) -> str:
    return f"{JOB_KIND}:{schedule_id}"


def stored_when(text: str, tz: dt.tzinfo) -> When:
    return parse_when(text, _EPOCH.replace(tzinfo=tz), tz)


def grace_of(app: App, row: PushScheduleRow) -> dt.timedelta:
    minutes = row.grace_minutes if row.grace_minutes is not None else app.config.pushes.grace_minutes
    return dt.timedelta(minutes=minutes)


def push_calendar(app: App) -> PushCalendar:
    """The days pushes read: the core's working-day calendar (调休, statutory days, /节假日)."""
    return PushCalendar(app.calendar.is_workday, app.calendar.is_public_holiday)


def next_send(app: App, row: PushScheduleRow, start: dt.datetime | None = None) -> dt.datetime | None:
    """The next time the schedule really sends: fire times on days it stays silent are passed over."""
    when = stored_when(row.when, app.clock.tz)
    return push_calendar(app).next_send(when, app.clock.tz, start or app.clock.now(),
                                        skip_holidays=row.skip_holidays)


async def all_rows(session: AsyncSession, bot: str) -> list[PushScheduleRow]:
    return list((await session.execute(
        select(PushScheduleRow).where(PushScheduleRow.bot == bot).order_by(PushScheduleRow.created_at,
                                                                           PushScheduleRow.id)
    )).scalars())


async def next_chat_id(session: AsyncSession, bot: str) -> str:
    ids = (await session.execute(select(PushScheduleRow.id).where(PushScheduleRow.bot == bot))).scalars()
    numbers = [int(i) for i in ids if i.isdecimal() and len(i) <= 9]  # (config ids may be any text)
    return str(max(numbers, default=0) + 1)


async def duplicate_of(app: App, session: AsyncSession, when: str, kind: str, target: str,
                       text: str | None) -> PushScheduleRow | None:
    """An existing schedule (config's too) at the same time, of the same kind, reaching the same
    groups ("居民群" and a list of every resident group are the same targets); an announcement
    repeats only with the same words. Two of them would post the same notice twice, seconds apart."""
    groups = _group_ids(app, target)
    for row in await all_rows(session, app.name):
        if row.when == when and row.kind == kind and _group_ids(app, row.target) == groups \
                and (kind == "antifraud" or (row.text or "") == (text or "")):
            return row
    return None


def _group_ids(app: App, target: str) -> frozenset[str] | str:
    groups = resolve_target(app.directory, target)
    return frozenset(g.id for g in groups) if groups else target


def _config_fields(cfg: PushSchedule, when: When) -> dict:
    return {"when": when.describe(), "kind": cfg.kind, "target": cfg.target, "text": cfg.text,
            "skip_holidays": cfg.skip_holidays, "grace_minutes": cfg.grace_minutes}


def _declared(app: App) -> list[tuple[str, str, dict]]:
    """(id, source, fields) of every schedule config.yaml and the district file declare; one whose
    words cannot be read is logged and left out."""
    tz = app.clock.tz
    found = []
    for cfg in app.config.pushes.schedules:
        try:
            found.append((cfg.id, "config", _config_fields(cfg, stored_when(cfg.when, tz))))
        except TimeExprError as exc:
            log.error("pushes.schedules: bad time expression, schedule not registered",
                      extra={"schedule": cfg.id, "when": cfg.when, "problem": str(exc)})
    for i, schedule in enumerate(app.district.schedules if app.district else []):
        try:
            push = district.read(schedule)
            found.append((push.id, district.SOURCE, district.fields(push, stored_when(schedule.at, tz))))
        except (TimeExprError, district.DistrictScheduleError) as exc:
            app.skipped_at_start(f"分局推送计划 {schedule.at} {schedule.kind} {schedule.target}",
                                 ValueError(f"schedules[{i}].{exc}" if isinstance(exc, district.DistrictScheduleError)
                                            else f"schedules[{i}].at: {exc}"))
    return found


async def sync_schedules(app: App) -> None:
    """Bring push_schedules and the jobs in line with config.yaml and the district file;
    re-register chat schedules."""
    changed: set[str] = set()
    async with app.transaction() as session:
        rows = {r.id: r for r in await all_rows(session, app.name)}
        wanted: set[str] = set()
        for schedule_id, source, fields in _declared(app):
            wanted.add(schedule_id)
            row = rows.get(schedule_id)
            if row is None:
                row = PushScheduleRow(bot=app.name, id=schedule_id, created_at=app.clock.now(), paused=False)
                session.add(row)
                rows[schedule_id] = row
            elif row.source == "chat":
                log.warning("config schedule id replaces a chat schedule", extra={"schedule": schedule_id})
            if row.source != source or any(getattr(row, k) != v for k, v in fields.items()):
                changed.add(schedule_id)
            row.source = source
            for key, value in fields.items():
                setattr(row, key, value)
        for row in list(rows.values()):
            if row.source in ("config", district.SOURCE) and row.id not in wanted:
                await session.delete(row)
                del rows[row.id]
                await app.scheduler.remove(job_id(row.id), session=session)
        for row in rows.values():
            try:  # one row that cannot be read is left out, the others kept (it fails before writing)
                await register(app, row, replace=row.id in changed, session=session)
            except (ValueError, OverflowError, LookupError) as exc:
                app.skipped_at_start(f"推送计划 {row.id}（{row.when}）", exc)


async def register(app: App, row: PushScheduleRow, *, replace: bool = True,
                   session: AsyncSession | None = None) -> dt.datetime | None:
    """Create (or keep) the job for a schedule, in `session` with its row; returns its next run."""
    jid = job_id(row.id)
    scheduler = app.scheduler
    if jid in scheduler.job_ids(JOB_KIND + ":") and not replace:
        if row.paused:
            await scheduler.pause(jid, session=session)
        elif scheduler.next_run(jid) is None:
            await scheduler.resume(jid, session=session)
        return None if row.paused else scheduler.next_run(jid)
    when = stored_when(row.when, app.clock.tz)
    grace = grace_of(app, row)
    if when.kind == "once" and when.run_date + grace < app.clock.now():
        await scheduler.remove(jid, session=session)
        return None  # long gone; the job already ran or was missed and logged
    nxt = await scheduler.add(jid, JOB_KIND, {"schedule": row.id}, when.trigger(app.clock.tz), grace=grace,
                              session=session)
    if row.paused:
        await scheduler.pause(jid, session=session)
        return None
    return nxt
