"""The tips plugin's config (`tips:`): limits, and which unit each category goes to."""

from __future__ import annotations

from pydantic import Field

from bot.config import Strict


class TipRoute(Strict):
    unit: str
    room: str | None = None  # the unit's group, by name


class TipSettings(Strict):
    daily_limit: int = Field(5, ge=1)
    attachment_max_kb: int = Field(2048, ge=1)
    overdue_hours: int = Field(48, ge=1)
    routes: dict[str, TipRoute] = {}
