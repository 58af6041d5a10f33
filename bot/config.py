"""config.yaml, validated into pydantic models at start; secrets come from the environment.

A bad file never produces a traceback: `load_config` raises ConfigError whose `problems` are
one line each, naming the key path (`groups[2].category: unknown category 'xx' (...)`).
"""

from __future__ import annotations

import os
import re
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

CATEGORIES: dict[str, str] = {
    "resident": "居民群",
    "building": "楼栋群",
    "work": "工作群",
    "merchant": "商户群",
    "school": "学校群",
}
ROLES: dict[str, str] = {
    "officer": "民警",
    "staff": "辅警/文职/警务助理",
    "property": "物业",
    "building_lead": "楼组长",
    "resident": "居民",
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

ENV_OVERRIDES = {
    "JINGMIN_DATABASE_URL": ("database", "url"),
    "JINGMIN_SECRET_KEY": ("security", "secret_key"),
    "WECHATY_PUPPET_SERVICE_TOKEN": ("wechat", "token"),
    "WECHATY_PUPPET_SERVICE_ENDPOINT": ("wechat", "endpoint"),
}


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _one_of(value: str, allowed: dict[str, str] | tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise PydanticCustomError(
            "unknown_choice", "unknown {what} '{value}' ({allowed})",
            {"what": what, "value": value, "allowed": ", ".join(allowed)},
        )
    return value


def _parse_hhmm(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int):  # YAML 1.1 reads 09:00 as the sexagesimal number 540
        return time(value // 60 % 24, value % 60)
    match = re.fullmatch(r"(\d{1,2})[:：](\d{2})", str(value).strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise PydanticCustomError("bad_time", "'{value}' is not a time of day like 09:30", {"value": value})
    return time(int(match[1]), int(match[2]))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BotSettings(Strict):
    name: str = Field("jingmin", pattern=r"^[a-z][a-z0-9_]{0,30}$")
    timezone: str = "Asia/Shanghai"
    transport: Literal["simulator", "wechaty", "memory"] = "simulator"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    community: str = "幸福里社区"
    police_post: str = "幸福里社区警务室"


class DatabaseSettings(Strict):
    url: str = "sqlite+aiosqlite:///data/jingmin.db"

    @field_validator("url")
    @classmethod
    def _known_driver(cls, v: str) -> str:
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise PydanticCustomError(
                "bad_url", "'{v}' must start with sqlite+aiosqlite:// or postgresql+asyncpg://", {"v": v}
            )
        return v


class SecuritySettings(Strict):
    # Fernet key (urlsafe base64, 32 bytes); the sample default is for the simulator only.
    secret_key: str | None = None


class WechatSettings(Strict):
    endpoint: str | None = None
    token: str | None = None
    accept_friends: bool = True
    # Accepting many requests in a row is what gets an account restricted: one at a time, at
    # least this far apart (plus up to half as much again at random). 0 accepts at once.
    friend_accept_interval_seconds: float = Field(30.0, ge=0, le=3600)
    web_host: str = "127.0.0.1"
    web_port: int = Field(8080, ge=0, le=65535)


class GroupConfig(Strict):
    name: str = Field(min_length=1)
    id: str | None = None
    category: str

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        return _one_of(v, CATEGORIES, "category")

    @property
    def room_id(self) -> str:
        return self.id or f"room:{self.name}"


class ContactConfig(Strict):
    name: str = Field(min_length=1)
    id: str | None = None
    role: str = "resident"
    rooms: list[str] = []
    friend: bool = True

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        return _one_of(v, ROLES, "role")

    @property
    def contact_id(self) -> str:
        return self.id or f"wx:{self.name}"


class OutboxSettings(Strict):
    min_interval_seconds: float = Field(2.0, ge=0)
    jitter_seconds: float = Field(1.0, ge=0)
    room_hourly_cap: int = Field(20, ge=1)
    max_attempts: int = Field(5, ge=1)
    max_text_length: int = Field(1500, ge=100)


class QuietHours(Strict):
    start: time = time(22, 0)
    end: time = time(7, 30)

    _hhmm = field_validator("start", "end", mode="before")(classmethod(lambda cls, v: _parse_hhmm(v)))


class CalendarSettings(Strict):
    extra_holidays: list[date] = []
    extra_workdays: list[date] = []


class DialogSettings(Strict):
    timeout_minutes: int = Field(30, ge=1)


class OpeningHours(Strict):
    start: time
    end: time

    _hhmm = field_validator("start", "end", mode="before")(classmethod(lambda cls, v: _parse_hhmm(v)))

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
        return [_one_of(d, WEEKDAYS, "weekday") for d in v]


class AppointmentSettings(Strict):
    reminder_evening: time = time(18, 0)
    reminder_before_minutes: int = Field(60, ge=0)
    days_ahead: int = Field(14, ge=1, le=60)

    _hhmm = field_validator("reminder_evening", mode="before")(classmethod(lambda cls, v: _parse_hhmm(v)))


class GuideEntry(Strict):
    id: str = Field(min_length=1)
    keywords: list[str] = []
    questions: list[str] = []
    answer: str = Field(min_length=1)
    service: str | None = None

    @model_validator(mode="after")
    def _matchable(self) -> GuideEntry:
        if not self.keywords and not self.questions:
            raise PydanticCustomError("unmatchable", "needs keywords or questions to match on", {})
        return self


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
        return _one_of(v, PUSH_KINDS, "push kind")


class PushSettings(Strict):
    rotation_weeks: int = Field(8, ge=1)
    grace_minutes: int = Field(60, ge=0)
    notice_dirs: list[str] = []
    schedules: list[PushSchedule] = []


class TipRoute(Strict):
    unit: str
    room: str | None = None  # the unit's group, by name


class TipSettings(Strict):
    daily_limit: int = Field(5, ge=1)
    attachment_max_kb: int = Field(2048, ge=1)
    overdue_hours: int = Field(48, ge=1)
    routes: dict[str, TipRoute] = {}


class StatsSettings(Strict):
    weekly_day: str = "mon"
    weekly_time: time = time(9, 0)

    _hhmm = field_validator("weekly_time", mode="before")(classmethod(lambda cls, v: _parse_hhmm(v)))

    @field_validator("weekly_day")
    @classmethod
    def _day(cls, v: str) -> str:
        return _one_of(v, WEEKDAYS, "weekday")


class Config(Strict):
    bot: BotSettings = BotSettings()
    database: DatabaseSettings = DatabaseSettings()
    security: SecuritySettings = SecuritySettings()
    wechat: WechatSettings = WechatSettings()
    groups: list[GroupConfig] = []
    contacts: list[ContactConfig] = []
    outbox: OutboxSettings = OutboxSettings()
    quiet_hours: QuietHours = QuietHours()
    calendar: CalendarSettings = CalendarSettings()
    dialogs: DialogSettings = DialogSettings()
    services: list[ServiceConfig] = []
    appointments: AppointmentSettings = AppointmentSettings()
    guide: list[GuideEntry] = []
    pushes: PushSettings = PushSettings()
    tips: TipSettings = TipSettings()
    stats: StatsSettings = StatsSettings()

    @model_validator(mode="after")
    def _cross_references(self) -> Config:
        group_names = [g.name for g in self.groups]
        problems = []
        for i, contact in enumerate(self.contacts):
            for j, room in enumerate(contact.rooms):
                if room not in group_names:
                    problems.append(f"contacts[{i}].rooms[{j}]: unknown group '{room}'")
        service_names = {s.name for s in self.services}
        for i, entry in enumerate(self.guide):
            if entry.service and entry.service not in service_names:
                problems.append(f"guide[{i}].service: unknown service '{entry.service}'")
        for key, names in (("groups", group_names), ("services", [s.name for s in self.services])):
            seen = set()
            for i, name in enumerate(names):
                if name in seen:
                    problems.append(f"{key}[{i}].name: duplicate name '{name}'")
                seen.add(name)
        if problems:
            raise ConfigError(problems)
        return self

    def group_by_name(self, name: str) -> GroupConfig | None:
        return next((g for g in self.groups if g.name == name), None)


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not path:
            path = str(part)
        else:
            path += f".{part}"
    return path or "(top level)"


def _format_errors(err: ValidationError) -> list[str]:
    problems = []
    for e in err.errors():
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        problems.append(f"{_loc_to_path(e['loc'])}: {msg}")
    return problems


def _apply_env(raw: dict[str, Any], env: dict[str, str]) -> None:
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            if not isinstance(raw.get(section), dict):
                raw[section] = {}
            raw[section][key] = env[var]


def parse_config(raw: Any, env: dict[str, str] | None = None) -> Config:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(["(top level): the file must be a mapping of sections (bot:, groups:, ...)"])
    raw = dict(raw)
    _apply_env(raw, os.environ if env is None else env)
    try:
        return Config.model_validate(raw)
    except ValidationError as err:
        # Cross-reference problems raise ConfigError directly (pydantic does not wrap it).
        raise ConfigError(_format_errors(err)) from None


def load_config(path: str | Path, env: dict[str, str] | None = None) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read ({exc})"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError([f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    return parse_config(raw, env)
