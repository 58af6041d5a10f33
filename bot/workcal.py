"""Chinese working-day calendar shared by scheduled pushes and appointments.

Public holidays and make-up workdays (调休) come from the ``chinesecalendar``
package (import name ``chinese_calendar``).  That package only knows the years
for which the State Council has published an arrangement and raises
``NotImplementedError`` for any other year (1.11.0 covers 2004-2026).  A bot that
runs over New Year must not crash on that, so for an unknown year we fall back
to "Saturday and Sunday off" plus the holidays/workdays listed in config.yaml,
and tell the caller once per year so it can log how to fix it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable

import chinese_calendar

UnknownYearHook = Callable[[int], None]


def unknown_year_warning(year: int) -> str:
    """The log line the caller should emit when ``on_unknown_year(year)`` fires."""
    first, last = covered_years()
    return (
        f"chinesecalendar {package_version()} has no public-holiday data for {year} "
        f"(it covers {first}-{last}); treating only weekends as days off, plus the dates in "
        f"config.yaml. Fix: add holidays for {year} to config.yaml calendar.extra_holidays "
        f"(and make-up workdays to calendar.extra_workdays) or upgrade chinesecalendar"
    )


def package_version() -> str:
    return getattr(chinese_calendar, "__version__", "unknown")


def covered_years() -> tuple[int, int]:
    """First and last year the installed chinesecalendar has an arrangement for.

    Read from the package's data rather than hard-coded, so upgrading the
    package widens coverage without a code change.
    """
    years = {d.year for d in chinese_calendar.constants.holidays}
    return min(years), max(years)


def _as_date(d: dt.date) -> dt.date:
    # datetime is a subclass of date but never equal to one, so set lookups
    # against config dates would silently miss without this.
    return d.date() if isinstance(d, dt.datetime) else d


class WorkCalendar:
    """Answers "is this a working day in mainland China?".

    Precedence, highest first:
      1. ``extra_workdays`` from config (a local make-up day, or a year the
         package does not know yet),
      2. ``extra_holidays`` from config,
      3. the chinesecalendar package,
      4. for a year the package does not know: Monday-Friday are workdays.

    The only state is the set of years already reported, so a long-running bot
    logs the missing-year warning once, not on every scheduler tick.
    """

    def __init__(
        self,
        extra_holidays: Iterable[dt.date] = (),
        extra_workdays: Iterable[dt.date] = (),
        on_unknown_year: UnknownYearHook | None = None,
    ) -> None:
        self._extra_holidays = frozenset(_as_date(d) for d in extra_holidays)
        self._extra_workdays = frozenset(_as_date(d) for d in extra_workdays)
        clash = self._extra_holidays & self._extra_workdays
        if clash:
            listed = ", ".join(sorted(d.isoformat() for d in clash))
            raise ValueError(f"dates listed both as holidays and as workdays: {listed}")
        self._on_unknown_year = on_unknown_year
        self._reported_years: set[int] = set()
        # Pushes fire from APScheduler's thread pool; keep "once per year" true there too.
        self._lock = threading.Lock()

    def is_workday(self, d: dt.date) -> bool:
        d = _as_date(d)
        if d in self._extra_workdays:
            return True
        if d in self._extra_holidays:
            return False
        try:
            return chinese_calendar.is_workday(d)
        except NotImplementedError:
            self._report_unknown_year(d.year)
            return d.weekday() < 5

    def is_holiday(self, d: dt.date) -> bool:
        """True for any day off: weekends as well as public holidays."""
        return not self.is_workday(d)

    def next_workday(self, d: dt.date, *, include_today: bool = False) -> dt.date:
        """The first workday on or after ``d`` (after ``d`` unless include_today)."""
        day = _as_date(d) if include_today else _as_date(d) + dt.timedelta(days=1)
        # The longest run of days off (Spring Festival / National Day) is 9 days;
        # 60 leaves room for odd config without risking an endless loop.
        for _ in range(60):
            if self.is_workday(day):
                return day
            day += dt.timedelta(days=1)
        raise ValueError(f"no workday within 60 days after {d.isoformat()}; check config holidays")

    def knows_year(self, year: int) -> bool:
        """True if the package has data for ``year`` (config entries do not count).

        Lets the caller check next year at start-up, before December pushes hit it.
        """
        first, last = covered_years()
        return first <= year <= last

    def _report_unknown_year(self, year: int) -> None:
        if self._on_unknown_year is None or self._has_config_for(year):
            return
        with self._lock:
            if year in self._reported_years:
                return
            self._reported_years.add(year)
        self._on_unknown_year(year)

    def _has_config_for(self, year: int) -> bool:
        # Once an operator has entered that year's holidays in config.yaml the
        # fix has been applied; repeating the warning would only be noise.
        return any(d.year == year for d in self._extra_holidays | self._extra_workdays)
