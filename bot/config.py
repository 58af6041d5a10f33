"""config.yaml, validated into pydantic models at start; secrets come from the environment.

A bad file never produces a traceback: `load_config` raises ConfigError whose `problems` are
one line each, naming the key path (`groups[2].category: unknown category 'xx' (...)`).
"""

from __future__ import annotations

import copy
import os
import re
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator
from pydantic_core import PydanticCustomError

from bot import yamlfile

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


def one_of(value: str, allowed: dict[str, str] | tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise PydanticCustomError(
            "unknown_choice", "unknown {what} '{value}' ({allowed})",
            {"what": what, "value": value, "allowed": ", ".join(allowed)},
        )
    return value


def parse_hhmm(value: Any) -> time:
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
    timezone: str = "Asia/Shanghai"  # an IANA zone; every time the bot reads or writes is in it
    transport: Literal["simulator", "wechaty", "memory"] = "simulator"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    community: str = "幸福里社区"
    police_post: str = "幸福里社区警务室"
    # Local facts the service guide's answers name (empty: the answer says to ask the officer).
    police_post_address: str = ""
    police_post_hours: str = ""
    police_post_phone: str = ""
    police_station: str = ""
    police_station_address: str = ""
    police_station_hours: str = ""
    police_station_phone: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("bad_zone", "unknown time zone '{v}' (an IANA name like Asia/Shanghai)",
                                      {"v": v}) from None
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class DatabaseSettings(Strict):
    url: str | None = None  # default: a SQLite file in data_dir (Config.database_url)
    # PostgreSQL only: connections this bot's process keeps open (one of them holds the instance
    # lock for good), and how many more it may open at a peak. A district of N bots needs up to
    # N x (pool_size + max_overflow) of the server's max_connections (see bench/bench_district_load.py).
    pool_size: int = Field(2, ge=2, le=100)
    max_overflow: int = Field(2, ge=0, le=100)
    # PostgreSQL only: false commits without waiting for the server's disk (its synchronous_commit
    # off): the embedded SQLite's own durability (WAL, synchronous NORMAL). A crash of the bot
    # loses nothing either way; a crash of the server may lose the last fraction of a second of
    # commits (answers, counts, records), never the database's consistency. Unset: the server's,
    # except that routine rows (counts, answered questions: storage/later.py) never wait for the
    # disk; true: every commit waits, those too.
    synchronous_commit: bool | None = None

    @field_validator("url")
    @classmethod
    def _known_driver(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
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
    # TLS to the gateway. None (default): auto, TLS if the gateway answers a TLS handshake (1.x
    # services have it on by default), plain gRPC otherwise (0.2x, the simulator).
    tls: bool | None = None
    tls_ca_file: str | None = None  # PEM; none: the system's CAs, plus wechaty's for "insecure"
    # The name the certificate must carry; none: the token's prefix, as Node clients take it
    # ("insecure_<uuid>" -> "insecure"), else the endpoint's host name.
    tls_server_name: str | None = None
    tls_skip_verify: bool = False
    # No event or heartbeat this long: a ding, then a reconnect if still silent. 0: off.
    watchdog_seconds: float = Field(60.0, ge=0)
    # After a reconnect, officers are told of an outage at least this long.
    outage_note_minutes: float = Field(1.0, ge=0)
    attachment_max_kb: int = Field(10240, ge=1)
    attachment_timeout_seconds: float = Field(30.0, gt=0)


class GroupConfig(Strict):
    name: str = Field(min_length=1)
    id: str | None = None
    category: str

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        return one_of(v, CATEGORIES, "category")

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
        return one_of(v, ROLES, "role")

    @property
    def contact_id(self) -> str:
        return self.id or f"wx:{self.name}"


class OutboxSettings(Strict):
    min_interval_seconds: float = Field(2.0, ge=0)
    jitter_seconds: float = Field(1.0, ge=0)
    room_hourly_cap: int = Field(20, ge=1)
    max_attempts: int = Field(5, ge=1)
    max_text_length: int = Field(1500, ge=100)
    # Identical answers due in one group within this many seconds of each other go out as one
    # message that @-mentions every asker (0: never merged).
    merge_window_seconds: float = Field(20.0, ge=0, le=600)
    # How often an idle sender looks for rows another process wrote for it (a district's bots
    # on one database write to each other's outbox), in real seconds.
    poll_seconds: float = Field(2.0, gt=0, le=60)


class QuietHours(Strict):
    start: time = time(22, 0)
    end: time = time(7, 30)

    _hhmm = field_validator("start", "end", mode="before")(classmethod(lambda cls, v: parse_hhmm(v)))


class CalendarSettings(Strict):
    extra_holidays: list[date] = []
    extra_workdays: list[date] = []


class DialogSettings(Strict):
    timeout_minutes: int = Field(30, ge=1)


class RetentionSettings(Strict):
    """How long the nightly prune (bot/pruning.py) keeps rows, in days; the minimums keep what
    start-up, the weekly and monthly reports and the redelivery checks read."""

    processed_ids_days: int = Field(7, ge=2, le=3650)
    active_senders_days: int = Field(400, ge=62, le=3650)
    outbox_days: int = Field(30, ge=2, le=3650)
    dialog_days: int = Field(2, ge=1, le=3650)
    at: time = time(4, 10)  # when it runs, in bot.timezone

    _hhmm = field_validator("at", mode="before")(classmethod(lambda cls, v: parse_hhmm(v)))


class Config(Strict):
    """The core's settings. Each plugin adds its own sections (see `config_model`): the object a
    bot runs with is of a subclass that has them, so `config.tips` is the tips plugin's model."""

    # Plugins to load, by entry-point name or module:attribute; absent: every installed one.
    plugins: list[str] | None = None
    # Where the bot keeps its files (SQLite database, key, charts, exports); relative to the
    # config file's folder.
    data_dir: str = "data"
    # The district file this community belongs to (bot/district.py), relative to this file.
    district: str | None = None
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
    retention: RetentionSettings = RetentionSettings()

    def group_by_name(self, name: str) -> GroupConfig | None:
        return next((g for g in self.groups if g.name == name), None)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def database_url(self) -> str:
        """The database URL; the embedded default is a SQLite file in data_dir."""
        return self.database.url or f"sqlite+aiosqlite:///{self.data_path / 'jingmin.db'}"


def core_problems(config: Config) -> list[str]:
    group_names = [g.name for g in config.groups]
    problems = []
    for i, contact in enumerate(config.contacts):
        for j, room in enumerate(contact.rooms):
            if room not in group_names:
                problems.append(f"contacts[{i}].rooms[{j}]: unknown group '{room}'")
    problems += duplicate_names("groups", group_names)
    return problems


def _district_problems(config: Config) -> list[str]:
    """The district file this config names must load, and name this bot among its communities."""
    if not config.district:
        return []
    from bot.district import load_district  # bot.district builds on this module

    try:
        district = load_district(config.district)
    except ConfigError as error:
        return [f"district: {line}" for line in error.problems]
    if district.communities and config.bot.name not in district.bots:
        return [f"district: {config.district} has no community with bot '{config.bot.name}' "
                f"(communities: {', '.join(district.bots)})"]
    return []


def duplicate_names(key: str, names: list[str]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for i, name in enumerate(names):
        if name in seen:
            problems.append(f"{key}[{i}].name: duplicate name '{name}'")
        seen.add(name)
    return problems


_MODELS: dict[tuple, type[Config]] = {}


def config_model(sections: dict[str, tuple[Any, Any]]) -> type[Config]:
    """The Config class with the plugins' sections (key -> (model, default)) added as fields."""
    key = tuple(sorted(((k, id(model), repr(default)) for k, (model, default) in sections.items())))
    if key not in _MODELS:
        clash = set(sections) & set(Config.model_fields)
        if clash:
            raise ConfigError([f"{', '.join(sorted(clash))}: a plugin's config section clashes with the core's"])
        fields = {k: (model, Field(default_factory=lambda d=default: copy.deepcopy(d)))
                  for k, (model, default) in sections.items()}
        _MODELS[key] = create_model("Config", __base__=Config, **fields)
    return _MODELS[key]


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


def parse_config(raw: Any, env: dict[str, str] | None = None, *, plugins: list | None = None,
                 base_dir: Path | None = None) -> Config:
    """Validate `raw` with the core's model plus the sections and checks of its plugins.

    `plugins`: the Plugin objects to validate for; default, those the file's `plugins:` names."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(["(top level): the file must be a mapping of sections (bot:, groups:, ...)"])
    raw = {k: v for k, v in raw.items() if v is not None}  # "database:" with only comments under it
    _apply_env(raw, os.environ if env is None else env)
    if plugins is None:
        plugins = _plugins_named(raw.get("plugins"))
    model = config_model({k: v for p in plugins for k, v in p.config_sections.items()})
    if base_dir is not None and not Path(str(raw.get("data_dir", "data"))).is_absolute():
        raw["data_dir"] = str(base_dir / str(raw.get("data_dir", "data")))
    if base_dir is not None and isinstance(raw.get("district"), str) and not Path(raw["district"]).is_absolute():
        raw["district"] = str(base_dir / raw["district"])
    try:
        config = model.model_validate(raw)
    except ValidationError as err:
        # Cross-reference problems raise ConfigError directly (pydantic does not wrap it).
        raise ConfigError(_format_errors(err)) from None
    problems = core_problems(config) + _district_problems(config)
    problems += [line for p in plugins for check in p.validators for line in check(config)]
    if problems:
        raise ConfigError(problems)
    return config


def _plugins_named(names: Any) -> list:
    from bot.plugins import PluginError, load_all

    if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
        raise ConfigError(["plugins: must be a list of plugin names"])
    try:
        return load_all(names)
    except PluginError as error:
        raise ConfigError([f"plugins: {error}"]) from None


def load_config(path: str | Path, env: dict[str, str] | None = None) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read ({exc})"]) from None
    try:
        raw = yamlfile.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError([f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    return parse_config(raw, env, base_dir=path.resolve().parent)
