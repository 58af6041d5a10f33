"""Opening days, slot times and free places: the arithmetic of the booking diary.

Pure: the service's config, a calendar, the places taken and the days closed come in as plain
values (bookings.py reads them from the database); nothing here knows the bot or the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Protocol

from bot.config import WEEKDAYS
from handlers.appointments.config import ServiceConfig
from handlers.appointments.parse import day_part, parse_clock, pick_number

WORKWEEK = frozenset(WEEKDAYS[:5])
A_MONDAY = date(2026, 1, 5)  # any ordinary day: slot times do not depend on the date


class Calendar(Protocol):
    def is_workday(self, day: date) -> bool: ...


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    free: int


@dataclass(frozen=True)
class Diary:
    """One service's booking diary seen at `now`: places taken per slot start, days closed (-> reason)."""

    tz: tzinfo
    now: datetime
    taken: Mapping[datetime, int] = field(default_factory=dict)
    closed: Mapping[date, str] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()


def find_service(services: Iterable[ServiceConfig], text: str) -> ServiceConfig | None:
    """居住证, 居住证签注 (an alias), 我要办居住证 (a name inside the text) -> that service."""
    services, text = list(services), text.strip()
    for s in services:
        if text == s.name or text in s.aliases:
            return s
    for s in services:
        if any(word and word in text for word in (s.name, *s.aliases)):
            return s
    return None


def is_open(service: ServiceConfig, day: date, calendar: Calendar, closed: Mapping[date, str]) -> bool:
    """Closed on public holidays and officer-closed days; a make-up workday (调休上班) is open for
    services that open every weekday; a weekend day listed in `days` is open unless closed."""
    if day in closed:
        return False
    weekday = WEEKDAYS[day.weekday()]
    workday = calendar.is_workday(day)
    if day.weekday() < 5:
        return workday and weekday in service.days
    if workday:
        return weekday in service.days or WORKWEEK <= set(service.days)
    return weekday in service.days


def slot_times(service: ServiceConfig, day: date, tz: tzinfo | None) -> list[tuple[datetime, datetime]]:
    """Every slot of the opening hours of `day`; a slot that would run past the hours is left out."""
    step = timedelta(minutes=service.slot_minutes)
    times = []
    for hours in service.hours:
        start, end = datetime.combine(day, hours.start, tz), datetime.combine(day, hours.end, tz)
        while start + step <= end:
            times.append((start, start + step))
            start += step
    return times


def free_slots(service: ServiceConfig, day: date, diary: Diary) -> list[Slot]:
    """The slots of `day` still ahead with a place left (opening days are free_days's business)."""
    return [Slot(start, end, service.capacity - diary.taken.get(start, 0))
            for start, end in slot_times(service, day, diary.tz)
            if start > diary.now and diary.taken.get(start, 0) < service.capacity]


def free_days(service: ServiceConfig, diary: Diary, calendar: Calendar, days_ahead: int) -> list[tuple[date, int]]:
    """The open days from today on with a free place, each with how many; at most `days_ahead`."""
    days = []
    for day in diary_days(diary.today, days_ahead):
        if is_open(service, day, calendar, diary.closed):
            slots = free_slots(service, day, diary)
            if slots:
                days.append((day, sum(s.free for s in slots)))
    return days[:days_ahead]


def diary_days(today: date, days_ahead: int) -> list[date]:
    """Today and the `days_ahead` days after it: the days residents may book."""
    return [today + timedelta(days=i) for i in range(days_ahead + 1)]


def in_part(slots: list[Slot], part: str | None) -> list[Slot]:
    """Only the 上午 or 下午 slots; no part: all."""
    return [s for s in slots if (s.start.hour < 12) == (part == "上午")] if part else slots


def pick_slot(slots: list[Slot], text: str) -> Slot | None:
    """A slot by its number, by a time inside it (9点半), or 上午/下午 alone: its first slot."""
    index = pick_number(text, len(slots))
    if index is not None:
        return slots[index]
    at = parse_clock(text)
    if at is not None and (slot := next((s for s in slots if s.start.time() <= at < s.end.time()), None)):
        return slot
    if (part := day_part(text)) and len(text.strip()) <= 3:
        return next(iter(in_part(slots, part)), None)
    return None


def reminder_times(services: Iterable[ServiceConfig], before: timedelta) -> list[time]:
    """When the "an hour before" reminder must run: `before` each slot start any service has."""
    starts = {start for service in services for start, _ in slot_times(service, A_MONDAY, None)}
    return sorted({(start - before).time() for start in starts})
