"""The scheduled push: a schedule's job fires, and each of its groups gets one message.

The dedup key is schedule, due time and group, so a double fire or a restart mid-push never
sends twice; a day the schedule stays silent on (工作日, 节假日不发) is passed over and logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from handlers.pushes import schedules
from handlers.pushes.delivery import push_to_groups
from handlers.pushes.plugin import plugin
from handlers.pushes.targets import resolve_target
from storage.pushes import PushScheduleRow

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


@plugin.job(schedules.JOB_KIND)
async def run_schedule(app: App, payload: dict[str, Any], due: dt.datetime) -> None:
    schedule_id = payload["schedule"]
    async with app.transaction() as session:
        row = await session.get(PushScheduleRow, (app.name, schedule_id))
        if row is None or row.paused:
            return
        when = schedules.stored_when(row.when, app.clock.tz)
        day = due.astimezone(app.clock.tz).date()
        if schedules.push_calendar(app).silent_on(day, workdays_only=when.workdays_only,
                                                  skip_holidays=row.skip_holidays):
            log.info("push skipped: not a working day", extra={"schedule": schedule_id, "day": day.isoformat()})
            return
        groups = resolve_target(app.directory, row.target)
        if not groups:  # normal for a district's schedule: this community may have no such group
            (log.info if row.source == "district" else log.warning)(
                "push target names no categorised group", extra={"schedule": schedule_id, "target": row.target})
            return
        result = await push_to_groups(
            app, session, groups=groups, kind=row.kind, text=row.text, notice_type=row.notice_type,
            dedup_prefix=f"push:{schedule_id}:{due.isoformat()}", log_as=schedule_id, due=due)
        if when.kind == "once":
            await session.delete(row)
    log.info("push queued", extra={"schedule": schedule_id, "due": due.isoformat(),
                                   "groups": len(groups), "queued": result.queued})
