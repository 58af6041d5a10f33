"""Chinese working-day calendar shared by scheduled pushes and appointments.

Four layers, highest first:

1. days the post set itself (`/节假日`, stored in calendar_days, and config.yaml's
   calendar.extra_holidays / extra_workdays): a holiday, a make-up workday (调休), or an
   ordinary day that takes back a holiday or a make-up day of a lower layer;
2. the State Council's arrangement for the year, from the ``chinesecalendar`` package
   (import name ``chinese_calendar``), which knows only the years published when it was
   released (1.11 stops at 2026);
3. for a year it does not know: the statutory days of 《全国年节及纪念日放假办法》 (2025
   revision), computed with a lunar calendar (``lunardate``) — 元旦, 春节 除夕至初三, 清明,
   劳动节 5月1日至2日, 端午, 中秋, 国庆 10月1日至3日 — with no 调休, until the year's
   arrangement is published and entered;
4. Saturday and Sunday off.

Which official data is used is injectable (``OfficialDays``), so tests say what "the package
knows" instead of depending on the installed release.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar
from lunardate import LunarDate

UnknownYearHook = Callable[[int], None]

HOLIDAY, WORKDAY, ORDINARY = "holiday", "workday", "ordinary"  # what a local entry says of its day

# chinesecalendar's English names, as officers read them.
PACKAGE_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节", "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def unknown_year_warning(year: int) -> str:
    """The log line the caller should emit when ``on_unknown_year(year)`` fires."""
    first, last = covered_years()
    return (
        f"chinesecalendar {package_version()} has no public-holiday arrangement for {year} "
        f"(it covers {first}-{last}); using the statutory days (元旦, 春节 除夕-初三, 清明, 劳动节, 端午, 中秋, "
        f"国庆) without 调休. Fix: once the State Council publishes {year}'s arrangement, add its days with "
        f"/节假日 (or config.yaml calendar.extra_holidays / extra_workdays) or upgrade chinesecalendar"
    )


def package_version() -> str:
    return getattr(chinese_calendar, "__version__", "unknown")


@dataclass(frozen=True)
class OfficialDays:
    """The published arrangements: days off by name (weekend days inside a break included), and
    the weekend days worked in exchange (调休), for `years`."""

    holidays: Mapping[dt.date, str]
    workdays: Mapping[dt.date, str]
    years: frozenset[int]

    @classmethod
    def from_package(cls) -> OfficialDays:
        holidays = {d: PACKAGE_NAMES.get(n, n) for d, n in chinese_calendar.constants.holidays.items()}
        workdays = {d: PACKAGE_NAMES.get(n, n) for d, n in chinese_calendar.constants.workdays.items()}
        return cls(holidays, workdays, frozenset(d.year for d in holidays))


@lru_cache(maxsize=1)
def package_days() -> OfficialDays:
    return OfficialDays.from_package()


def official_days() -> OfficialDays:
    """What the calendar reads as published (tests monkeypatch this to inject their own data)."""
    return package_days()


def covered_years(official: OfficialDays | None = None) -> tuple[int, int]:
    """First and last year the official data has an arrangement for (read from the data, so an
    upgraded package widens it without a code change)."""
    years = (official or official_days()).years
    return min(years), max(years)


@lru_cache(maxsize=256)
def statutory_days(year: int) -> dict[dt.date, str]:
    """The days off 《全国年节及纪念日放假办法》 (2025) gives every year, before any 调休.

    Lunar dates come from lunardate (1900-2099); outside it only the solar holidays are known."""
    days = {dt.date(year, 1, 1): "元旦", dt.date(year, 5, 1): "劳动节", dt.date(year, 5, 2): "劳动节",
            _qingming(year): "清明节"}
    days.update({dt.date(year, 10, d): "国庆节" for d in (1, 2, 3)})
    try:
        new_year = LunarDate(year, 1, 1).to_solar_date()
        days.update({new_year + dt.timedelta(days=i): "春节" for i in range(-1, 3)})  # 除夕 to 初三
        days[LunarDate(year, 5, 5).to_solar_date()] = "端午节"
        days[LunarDate(year, 8, 15).to_solar_date()] = "中秋节"
    except ValueError:  # outside lunardate's table
        pass
    return {d: n for d, n in days.items() if d.year == year}


def _qingming(year: int) -> dt.date:
    """清明 (the solar term 清明, 4 or 5 April) by the usual 21st-century formula [Y*D+C]-L:
    Y = year % 100, D = 0.2422, C = 4.81, L = Y // 4 (checked against 2004-2026's arrangements)."""
    y = year % 100
    return dt.date(year, 4, int(y * 0.2422 + 4.81) - y // 4)


def _as_date(d: dt.date) -> dt.date:
    # datetime is a subclass of date but never equal to one, so set lookups
    # against config dates would silently miss without this.
    return d.date() if isinstance(d, dt.datetime) else d


@dataclass(frozen=True)
class DayInfo:
    """What the calendar says of one day, and on whose word (for /节假日)."""

    day: dt.date
    workday: bool
    name: str | None  # the holiday's (or the 调休's) name, if any
    source: str  # local | official | statutory | weekend


class WorkCalendar:
    """Answers "is this a working day in mainland China?" and "is it a public holiday?".

    The only state besides the local days is the set of years already reported, so a
    long-running bot logs the missing-year warning once, not on every scheduler tick.
    """

    def __init__(
        self,
        extra_holidays: Iterable[dt.date] = (),
        extra_workdays: Iterable[dt.date] = (),
        on_unknown_year: UnknownYearHook | None = None,
        official: OfficialDays | None = None,
    ) -> None:
        holidays = frozenset(_as_date(d) for d in extra_holidays)
        workdays = frozenset(_as_date(d) for d in extra_workdays)
        clash = holidays & workdays
        if clash:
            listed = ", ".join(sorted(d.isoformat() for d in clash))
            raise ValueError(f"dates listed both as holidays and as workdays: {listed}")
        self._config: dict[dt.date, tuple[str, str]] = {d: (HOLIDAY, "") for d in holidays}
        self._config.update({d: (WORKDAY, "") for d in workdays})
        self._stored: dict[dt.date, tuple[str, str]] = {}
        self._official = official
        self._on_unknown_year = on_unknown_year
        self._reported_years: set[int] = set()
        # Pushes fire from APScheduler's thread pool; keep "once per year" true there too.
        self._lock = threading.Lock()

    @property
    def official(self) -> OfficialDays:
        return self._official or official_days()

    # ---- local days (/节假日) ------------------------------------------------------------------

    def set_stored(self, entries: Mapping[dt.date, tuple[str, str]]) -> None:
        """The days kept in the database (calendar_days): day -> (holiday|workday|ordinary, name)."""
        self._stored = dict(entries)

    def local(self, d: dt.date) -> tuple[str, str] | None:
        return self._stored.get(d) or self._config.get(d)

    def has_local_days(self, year: int) -> bool:
        return any(d.year == year for d in (*self._config, *self._stored))

    # ---- questions ---------------------------------------------------------------------------

    def info(self, d: dt.date) -> DayInfo:
        d = _as_date(d)
        weekend = DayInfo(d, d.weekday() < 5, None, "weekend")
        local = self.local(d)
        if local is not None:
            kind, name = local
            if kind == ORDINARY:
                return weekend
            return DayInfo(d, kind == WORKDAY, name or None, "local")
        official = self.official
        if d.year in official.years:
            if d in official.workdays:
                return DayInfo(d, True, official.workdays[d], "official")
            if d in official.holidays:
                return DayInfo(d, False, official.holidays[d], "official")
            return weekend
        self._report_unknown_year(d.year)
        name = statutory_days(d.year).get(d)
        return DayInfo(d, False, name, "statutory") if name else weekend

    def is_workday(self, d: dt.date) -> bool:
        return self.info(d).workday

    def is_holiday(self, d: dt.date) -> bool:
        """True for any day off: weekends as well as public holidays."""
        return not self.is_workday(d)

    def is_public_holiday(self, d: dt.date) -> bool:
        """A statutory day off (国庆, 春节 ...), the weekend days inside such a break included;
        a plain weekend is not ("skip holidays" must not silence a Saturday schedule). A day the
        post set as a holiday is one, named or not."""
        found = self.info(d)
        return not found.workday and (found.name is not None or found.source == "local" or found.day.weekday() < 5)

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
        """True if the official data has ``year``'s arrangement (local entries do not count)."""
        return year in self.official.years

    def year_days(self, year: int) -> list[DayInfo]:
        """The year's holidays and make-up workdays (not plain weekends), in order."""
        day, out = dt.date(year, 1, 1), []
        while day.year == year:
            found = self.info(day)
            if found.source != "weekend" and (found.name or found.workday != (day.weekday() < 5)):
                out.append(found)
            day += dt.timedelta(days=1)
        return out

    def _report_unknown_year(self, year: int) -> None:
        if self._on_unknown_year is None or self.has_local_days(year):
            return
        with self._lock:
            if year in self._reported_years:
                return
            self._reported_years.add(year)
        self._on_unknown_year(year)
