"""The pushes plugin's config (`pushes:`): rotation, grace, extra notice folders, schedules."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.config import Strict, one_of

PUSH_KINDS = {"antifraud": "反诈", "announcement": "公告", "police_news": "警务动态"}


class PushSchedule(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    when: str = Field(min_length=1)  # 每周一 09:00, 每天 08:30, 工作日 08:00, 每月1号 10:00
    kind: str
    target: str = Field(min_length=1)  # group name, category code or Chinese name, or 全部
    text: str | None = None
    skip_holidays: bool = False
    grace_minutes: int | None = Field(None, ge=0)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        return one_of(v, PUSH_KINDS, "push kind")


class PushSettings(Strict):
    rotation_weeks: int = Field(8, ge=1)
    grace_minutes: int = Field(60, ge=0)
    notice_dirs: list[str] = []
    schedules: list[PushSchedule] = []
