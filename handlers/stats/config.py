"""The statistics plugin's config (`stats:`): when the weekly report goes out."""

from __future__ import annotations

from datetime import time

from pydantic import field_validator

from bot.config import WEEKDAYS, Strict, one_of, parse_hhmm


class StatsSettings(Strict):
    weekly_day: str = "mon"
    weekly_time: time = time(9, 0)

    _hhmm = field_validator("weekly_time", mode="before")(classmethod(lambda cls, v: parse_hhmm(v)))

    @field_validator("weekly_day")
    @classmethod
    def _day(cls, v: str) -> str:
        return one_of(v, WEEKDAYS, "weekday")
