"""Scheduled pushes: 社区公告, 警务动态 and 反诈 notices to groups by category, on schedule or now.

    /定时 每周一 09:00 反诈 居民群 [节假日不发]   /计划   /取消计划 3   /暂停计划 3   /恢复计划 3
    /公告 今天下午停水 [目标]                     /反诈 [刷单返利] [目标]
    /反诈 新增|列表|删除|停用|启用 ...            (the notice library)

This module is the Plugin object, its config, the notice library it builds at start and the
start hook; the package's other modules register on it (see __init__.py):
schedule_commands (/定时 and friends), push_now (/公告, /反诈 and the summary after them),
notice_commands (the /反诈 library subcommands), jobs (the scheduled push). Sentences are in
texts; the decisions (targets, push_calendar, schedule_words, outcome, notices) are pure.

Every push goes through the paced outbox with quiet hours respected and a dedup key of
schedule, due time and group, so a double fire or a restart mid-push never sends twice.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bot.config import CATEGORIES, ConfigError
from bot.district import load_district
from bot.plugin import Plugin
from handlers.pushes import district, schedules
from handlers.pushes.config import PushSettings
from handlers.pushes.delivery import NoticeLibrary, load_library
from handlers.pushes.targets import ALL
from handlers.pushes.timeexpr import TimeExprError, parse_when

if TYPE_CHECKING:
    from bot.app import App

plugin = Plugin("pushes", config=PushSettings, order=40)


@plugin.validator
def schedule_problems(config) -> list[str]:
    """check-config and start: every schedule's time must read (the bot would otherwise drop it)
    and its target must name groups (it would otherwise reach none)."""
    problems = []
    tz = config.bot.tz
    now = dt.datetime.now(tz)
    targets = {g.name for g in config.groups} | set(CATEGORIES) | set(CATEGORIES.values()) | set(ALL)
    for i, cfg in enumerate(config.pushes.schedules):
        key = f"pushes.schedules[{i}]"
        try:
            parse_when(cfg.when, now, tz)
        except TimeExprError as exc:
            problems.append(f"{key}.when: '{cfg.when}' is not a time expression the bot can read ({exc})")
            continue
        if cfg.target not in targets:
            problems.append(f"{key}.target: unknown group or category '{cfg.target}' "
                            f"({', '.join([*CATEGORIES, *sorted(g.name for g in config.groups), ALL[0]])})")
    return problems


@plugin.validator
def district_schedule_problems(config) -> list[str]:
    """check-config and start: the schedules of the district this community belongs to must read
    here too (the file's own problems, such as a missing file, are the district check's)."""
    if not config.district:
        return []
    try:
        district_file = load_district(config.district)
    except ConfigError:
        return []
    problems = []
    now = dt.datetime.now(config.bot.tz)
    for i, schedule in enumerate(district_file.schedules):
        key = f"district {config.district}: schedules[{i}]"
        try:
            district.read(schedule)
            parse_when(schedule.at, now, config.bot.tz)
        except district.DistrictScheduleError as exc:
            problems.append(f"{key}.{exc}")
        except TimeExprError as exc:
            problems.append(f"{key}.at: '{schedule.at}' is not a time expression the bot can read ({exc})")
    return problems


@plugin.provides(NoticeLibrary)
async def notice_library(app: App) -> NoticeLibrary:
    return load_library(app)


@plugin.on_start
async def start(app: App) -> None:
    """config.yaml's schedules into push_schedules, and every schedule's job in line with its row."""
    await schedules.sync_schedules(app)
