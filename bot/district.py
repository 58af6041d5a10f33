"""A district: one bureau, many community bots on one database (see issue #17).

The district file (e.g. `district.yaml`) names the bureau, its communities (one bot each, each with
its own config file), its specialist units and the bureau's work group:

    name: 甘井子分局
    report_bot: bureau                 # the bot that posts the district weekly report
    report_room: 分局社区警务工作群      # ... in this group of that bot's
    communities:
      - {bot: chunhui, config: chunhui.yaml}
      - {bot: bureau, config: bureau.yaml}
    units:
      - {name: 禁毒, handles: [毒品], bot: bureau, officers: [禁毒王警官]}
    schedules:
      - {at: 每周一 09:00, kind: 反诈, target: 全区居民群}

A community's own config points back at it with `district: district.yaml` (relative to that config
file), so each bot knows its units and the district's schedules. Paths in the district file are
relative to it. Unit officers are contact names in the config of the unit's bot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError

from bot import yamlfile
from bot.config import ConfigError, Strict, _format_errors, duplicate_names


# Roles that may read and answer tips (bot.plugin.STAFF): what a unit's officers must have.
UNIT_ROLES = frozenset({"officer", "staff"})


class Community(Strict):
    bot: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    config: str | None = None  # the community's config file; None in a scenario (bots inline)
    name: str | None = None  # how reports name it; default: bot.community of its config


class Unit(Strict):
    name: str = Field(min_length=1)
    handles: list[str] = Field(min_length=1)  # tip categories (handlers.tips CATEGORIES)
    bot: str  # the bot whose friends the unit's officers are
    officers: list[str] = Field(min_length=1)  # contact names in that bot's config


class DistrictSchedule(Strict):
    at: str = Field(min_length=1)  # a time expression as in /定时: "每周一 09:00", "工作日 08:30"
    kind: str = Field(min_length=1)  # 反诈 [类型] or 公告
    text: str | None = None  # a 公告's words
    target: str = "全区居民群"  # 全区 + a group category word, or 全区全部


class District(Strict):
    name: str = Field(min_length=1)
    report_bot: str | None = None
    report_room: str | None = None
    communities: list[Community] = []
    units: list[Unit] = []
    schedules: list[DistrictSchedule] = []
    base_dir: str = "."  # the district file's folder (set by load_district)

    def unit_for(self, category: str) -> Unit | None:
        """The unit that handles tips of `category`, if any."""
        return next((u for u in self.units if category in u.handles), None)

    @property
    def bots(self) -> list[str]:
        return [c.bot for c in self.communities]

    def config_path(self, community: Community) -> Path | None:
        if community.config is None:
            return None
        path = Path(community.config)
        return path if path.is_absolute() else Path(self.base_dir) / path

    def community_names(self) -> dict[str, str]:
        """bot -> the community's name for reports: `name:` here, else bot.community of its config
        (read as plain YAML: a report must not fail on another community's missing secret), else the bot."""
        names = {}
        for community in self.communities:
            name = community.name
            path = self.config_path(community)
            if name is None and path is not None:
                try:
                    raw = yamlfile.safe_load(path.read_text(encoding="utf-8"))
                    name = raw["bot"]["community"]
                except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
                    name = None
            names[community.bot] = str(name) if name else community.bot
        return names


def district_problems(district: District) -> list[str]:
    bots = district.bots
    problems = duplicate_names("communities", bots)
    problems = [p.replace(".name:", ".bot:") for p in problems]
    if district.report_bot is not None and district.report_bot not in bots:
        problems.append(f"report_bot: unknown bot '{district.report_bot}' (communities: {', '.join(bots)})")
    if (district.report_bot is None) != (district.report_room is None):
        problems.append("report_room: report_bot and report_room go together")
    problems += duplicate_names("units", [u.name for u in district.units])
    handled: dict[str, str] = {}
    for i, unit in enumerate(district.units):
        if unit.bot not in bots:
            problems.append(f"units[{i}].bot: unknown bot '{unit.bot}' (communities: {', '.join(bots)})")
        for j, category in enumerate(unit.handles):
            if category in handled:
                problems.append(f"units[{i}].handles[{j}]: '{category}' is already handled by {handled[category]}")
            handled.setdefault(category, unit.name)
    return problems


def parse_district(raw: Any, base_dir: Path | None = None) -> District:
    if not isinstance(raw, dict):
        raise ConfigError(["(top level): the district file must be a mapping (name:, communities:, ...)"])
    raw = {k: v for k, v in raw.items() if v is not None}
    if base_dir is not None:
        raw["base_dir"] = str(base_dir)
    try:
        district = District.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_errors(err)) from None
    problems = district_problems(district)
    if problems:
        raise ConfigError(problems)
    return district


def load_district(path: str | Path) -> District:
    path = Path(path)
    try:
        raw = yamlfile.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read ({exc})"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError([f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    try:
        return parse_district(raw, path.resolve().parent)
    except ConfigError as error:
        raise ConfigError([f"{path}: {p}" for p in error.problems]) from None


def check_district(path: str | Path) -> tuple[District | None, dict[str, Any], list[str]]:
    """The district file and every community config it names, checked together.

    Returns the district (None if its file is unusable), the loaded community configs by bot, and
    the problems, one line each, prefixed with the file and the key path. Beyond each file's own
    checks: a config's bot.name is the bot the district gives it, unit officers are contacts of the
    unit's bot, report_room is a group of report_bot's config.
    """
    from bot.config import load_config

    path = Path(path)
    try:
        district = load_district(path)
    except ConfigError as error:
        return None, {}, list(error.problems)
    problems: list[str] = []
    configs: dict[str, Any] = {}
    for i, community in enumerate(district.communities):
        if community.config is None:
            problems.append(f"{path}: communities[{i}].config: required key is missing (the community's config file)")
            continue
        shown = Path(community.config) if Path(community.config).is_absolute() else path.parent / community.config
        real = district.config_path(community)
        try:
            config = load_config(real)
        except ConfigError as error:
            for problem in error.problems:  # file errors name the file already; key errors do not
                problem = problem.replace(str(real), str(shown), 1)
                problems.append(problem if problem.startswith(str(shown)) else f"{shown}: {problem}")
            continue
        if config.bot.name != community.bot:
            problems.append(f"{shown}: bot.name: '{config.bot.name}', but {path} gives this community the bot "
                            f"'{community.bot}' (communities[{i}].bot)")
        configs[community.bot] = (config, shown)
    for i, unit in enumerate(district.units):
        if unit.bot not in configs:
            continue
        config, shown = configs[unit.bot]
        roles = {c.name: c.role for c in config.contacts}
        for j, officer in enumerate(unit.officers):
            if officer not in roles:
                problems.append(f"{path}: units[{i}].officers[{j}]: '{officer}' is not a contact in {shown} "
                                f"(the config of bot '{unit.bot}')")
            elif roles[officer] not in UNIT_ROLES:  # a resident could not open the tips sent to them
                problems.append(f"{path}: units[{i}].officers[{j}]: '{officer}' has the role "
                                f"'{roles[officer]}' in {shown}; a unit's officers need role officer or staff")
    if district.report_bot in configs and district.report_room:
        config, shown = configs[district.report_bot]
        if district.report_room not in {g.name for g in config.groups}:
            problems.append(f"{path}: report_room: '{district.report_room}' is not a group in {shown} "
                            f"(the config of report_bot '{district.report_bot}')")
    return district, {bot: config for bot, (config, _) in configs.items()}, problems

