"""On which days a schedule stays silent, and when it really sends next.

Pure: the working-day calendar is passed in (the core's WorkCalendar.is_workday, with 调休, and
its is_public_holiday, which knows the statutory days of a year chinesecalendar does not).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from handlers.pushes.timeexpr import When

MAX_SILENT_FIRES = 400  # more than a year of daily fires; 春节 and 国庆 are a week at most


@dataclass(frozen=True)
class PushCalendar:
    is_workday: Callable[[dt.date], bool]
    holiday: Callable[[dt.date], bool] | None = None  # WorkCalendar.is_public_holiday

    def is_public_holiday(self, day: dt.date) -> bool:
        """A statutory day off (国庆, 春节 ...), including the weekend days inside such a break.

        A plain weekend is not a holiday here: "skip holidays" must not silence a Saturday schedule.
        """
        if self.holiday is not None:
            return self.holiday(day)
        return not self.is_workday(day) and day.weekday() < 5

    def silent_on(self, day: dt.date, *, workdays_only: bool, skip_holidays: bool) -> bool:
        """工作日 schedules send on work days only; 节假日不发 ones not on public holidays."""
        if workdays_only and not self.is_workday(day):
            return True
        return skip_holidays and self.is_public_holiday(day)

    def next_send(self, when: When, tz: dt.tzinfo, start: dt.datetime, *,
                  skip_holidays: bool) -> dt.datetime | None:
        """The first fire time from `start` on a day the schedule does not stay silent (None: never)."""
        trigger = when.trigger(tz)
        fire = trigger.get_next_fire_time(None, start)
        for _ in range(MAX_SILENT_FIRES):
            if fire is None or not self.silent_on(fire.astimezone(tz).date(), workdays_only=when.workdays_only,
                                                  skip_holidays=skip_holidays):
                return fire
            fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
        return None
