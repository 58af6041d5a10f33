"""Quiet hours: pushes and reminders due at night wait until the morning."""

from __future__ import annotations

from datetime import datetime, time, timedelta


def in_quiet_hours(when: datetime, start: time, end: time) -> bool:
    t = when.timetz().replace(tzinfo=None)
    if start <= end:
        return start <= t < end
    return t >= start or t < end  # spans midnight, e.g. 22:00-07:30


def quiet_end(when: datetime, start: time, end: time) -> datetime:
    """The first moment at or after `when` outside quiet hours."""
    if not in_quiet_hours(when, start, end):
        return when
    candidate = when.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= when:
        candidate += timedelta(days=1)
    return candidate
