"""The appointments plugin's config: the services residents can book (`services:`) and the
reminders (`appointments:`)."""

from __future__ import annotations

from datetime import time

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from bot.config import WEEKDAYS, Strict, duplicate_names, one_of, parse_hhmm


class OpeningHours(Strict):
    start: time
    end: time

    _hhmm = field_validator("start", "end", mode="before")(classmethod(lambda cls, v: parse_hhmm(v)))

    @model_validator(mode="after")
    def _ordered(self) -> OpeningHours:
        if self.end <= self.start:
            raise PydanticCustomError("bad_hours", "end must be after start", {})
        return self


class ServiceConfig(Strict):
    name: str = Field(min_length=1)
    aliases: list[str] = []
    materials: list[str] = []
    slot_minutes: int = Field(30, ge=5, le=240)
    capacity: int = Field(3, ge=1)
    days: list[str] = ["mon", "tue", "wed", "thu", "fri"]
    hours: list[OpeningHours] = [
        OpeningHours(start=time(9, 0), end=time(11, 30)),
        OpeningHours(start=time(14, 0), end=time(17, 0)),
    ]
    place: str = ""

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[str]) -> list[str]:
        return [one_of(d, WEEKDAYS, "weekday") for d in v]


class AppointmentSettings(Strict):
    reminder_evening: time = time(18, 0)
    reminder_before_minutes: int = Field(60, ge=0)
    days_ahead: int = Field(14, ge=1, le=60)

    _hhmm = field_validator("reminder_evening", mode="before")(classmethod(lambda cls, v: parse_hhmm(v)))


def check_services(config) -> list[str]:
    return duplicate_names("services", [s.name for s in config.services])
