"""Statistics: the weekly report posted to the work groups with a chart, and /统计 on demand.

Counting is done elsewhere (the core tally and ctx.count in each feature); this module only reads
the counters. Other features add lines to reports with `@plugin.report_line(name)`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from bot.config import CATEGORIES
from bot.context import Context
from bot.messages import Outgoing
from bot.plugin import MANAGERS, STAFF, Plugin
from bot.quiet import quiet_end
from handlers.stats import cli
from handlers.stats import district as districts
from handlers.stats import report as reports
from handlers.stats.chart import render_chart, render_week_chart
from handlers.stats.config import StatsSettings
from handlers.stats.report import MESSAGE_METRICS, Period
from storage import counters, stats
from storage.stats import Scope

log = logging.getLogger(__name__)

plugin = Plugin("stats", config=StatsSettings, order=30)

JOB_ID = "stats:weekly"
JOB_KIND = "stats_weekly"
DISTRICT_JOB_ID = "stats:district-weekly"
DISTRICT_JOB_KIND = "stats_district_weekly"
GRACE = timedelta(hours=12)  # down at 09:00 and back by 21:00: the report still goes out that day

TEXTS = {
    "usage": "用法：/统计 [本周|上周|本月|上月|昨天|2026-11-01|2026-11-01..2026-11-30] [群名或分类]；"
             "/统计 上周 发布 把周报重新发到工作群。",
    "unknown_scope": "没有找到“{name}”这个群或分类。分类有：{categories}。",
    "published": "{period}周报已重新发到{n}个工作群。",
    "published_later": "现在是休息时间，{period}周报会在 {at} 发到{n}个工作群。",
    "no_work_group": "还没有工作群，周报无处可发。",
    "publish_only_staff": "只有民警和辅警/文职可以发布周报。",
    "chart_title": "{community} {start}至{end} 每日交流、咨询和建议",
}

WHAT = {"本周": "本周", "上周": "上周", "本月": "本月", "上月": "上月", "今天": "今天", "今日": "今天", "昨天": "昨天",
        "昨日": "昨天", "前天": "前天"}


@plugin.on("joined")
async def count_new_members(app, session, event) -> None:
    """新入群: people who joined a group the bot serves (the bot itself not counted)."""
    joined = [m for m in event.member_ids if m != app.bot_id]
    group = app.directory.group(event.room_id)
    if joined:
        await counters.bump(session, app.name, app.clock.now(), "new_members",
                            room_id=event.room_id, category=(group.category or "") if group else "", n=len(joined))


@plugin.on("friend")
async def count_new_friend(app, session, event) -> None:
    """新加好友: requests the bot takes (it accepts them one at a time, see the welcome plugin)."""
    if app.config.wechat.accept_friends:
        await counters.bump(session, app.name, app.clock.now(), "new_friends")


@plugin.on_start
async def schedule_weekly(app) -> None:
    cfg = app.config.stats
    trigger = CronTrigger(day_of_week=cfg.weekly_day, hour=cfg.weekly_time.hour, minute=cfg.weekly_time.minute,
                          timezone=app.clock.tz)
    await app.scheduler.add(JOB_ID, JOB_KIND, {}, trigger, grace=GRACE)
    if is_report_bot(app):
        # The bureau's report goes out on the report bot's own weekly day and time.
        await app.scheduler.add(DISTRICT_JOB_ID, DISTRICT_JOB_KIND, {}, trigger, grace=GRACE)
    else:  # the district file gave the report to another bot since
        await app.scheduler.remove(DISTRICT_JOB_ID)


def is_report_bot(app) -> bool:
    return app.district is not None and app.district.report_bot == app.name


@plugin.job(JOB_KIND)
async def weekly_job(app, payload: dict, due: datetime) -> None:
    period = reports.last_week(due.astimezone(app.clock.tz).date())
    await publish_weekly(app, period, again_at=None)


async def publish_weekly(app, period: Period, *, again_at: datetime | None, session=None) -> int:
    """Post the report and chart of `period` to every work group; returns how many groups got it.

    The dedup key names the ISO week, so the scheduled post goes out once however often the job
    fires (restarts, catch-up); `again_at` marks a deliberate repost with a key of its own.
    A command passes its own session, so everything commits with the command.
    """
    if session is None:
        async with app.transaction() as own:
            return await publish_weekly(app, period, again_at=again_at, session=own)
    groups = app.directory.groups_in("work")
    if not groups:
        log.warning("weekly report: no work group to post to")
        return 0
    data = await reports.gather(session, app.name, period, today=app.clock.now().date())
    data.extra = await app.report_lines(session, period)
    series = await stats.daily(session, app.name, period.start, period.end, MESSAGE_METRICS + reports.CHART_METRICS)
    text = reports.render(data, app.config, app.directory, weekly=True)
    chart = await _chart(app, period, series, again_at)
    suffix = f":again:{again_at.isoformat()}" if again_at else ""
    for g in groups:
        key = f"stats:weekly:{period.iso_week}:{g.id}{suffix}"
        await app.send(session, Outgoing(g.id, None, text), dedup_key=key, respect_quiet=True, source="stats")
        if chart:
            await app.send(session, Outgoing(g.id, None, str(chart.resolve()), kind="image"), dedup_key=key + ":chart",
                           respect_quiet=True, source="stats")
    return len(groups)


@plugin.job(DISTRICT_JOB_KIND)
async def district_weekly_job(app, payload: dict, due: datetime) -> None:
    if not is_report_bot(app):
        return
    period = reports.last_week(due.astimezone(app.clock.tz).date())
    await publish_district_weekly(app, period)


async def publish_district_weekly(app, period: Period) -> bool:
    """The district's report and its chart across communities, once per ISO week, to report_room."""
    district = app.district
    room = app.directory.group_named(district.report_room or "")
    if room is None:
        log.warning("district report: no group named %r to post to", district.report_room)
        return False
    async with app.transaction() as session:
        data = await districts.gather(session, district, period, app.clock.tz, today=app.clock.now().date())
        text = districts.render(data, app.config, weekly=True)
        labels, series = districts.chart_series(data)
        title = districts.TEXTS["chart_title"].format(district=district.name, start=f"{period.start.month}月{period.start.day}日",
                                                      end=f"{period.end.month}月{period.end.day}日")
        path = app.data_dir / "charts" / f"district-{app.name}-{period.iso_week}.png"
        try:
            chart = await asyncio.to_thread(render_chart, path, title, labels, series, slanted=True)
        except Exception:  # the numbers still go out as text
            log.exception("district chart failed")
            chart = None
        key = f"stats:district:{period.iso_week}:{room.id}"
        await app.send(session, Outgoing(room.id, None, text), dedup_key=key, respect_quiet=True, source="stats")
        if chart:
            await app.send(session, Outgoing(room.id, None, str(chart.resolve()), kind="image"),
                           dedup_key=key + ":chart", respect_quiet=True, source="stats")
    return True


async def _chart(app, period: Period, series: dict[str, list[int]], again_at: datetime | None) -> Path | None:
    merged = {"messages": [sum(day) for day in zip(*(series[m] for m in MESSAGE_METRICS))],
              "consultations": series["consultations"], "suggestions": series["suggestions"]}
    title = TEXTS["chart_title"].format(community=app.config.bot.community,
                                        start=f"{period.start.month}月{period.start.day}日",
                                        end=f"{period.end.month}月{period.end.day}日")
    stamp = f"-{again_at:%Y%m%d%H%M%S}" if again_at else ""
    path = app.data_dir / "charts" / f"weekly-{app.name}-{period.iso_week}{stamp}.png"
    try:
        return await asyncio.to_thread(render_week_chart, path, title, period.start, merged)
    except Exception:  # the numbers still go out as text
        log.exception("weekly chart failed")
        return None


def resolve_scope(app, words: list[str]) -> Scope | None:
    if not words:
        return Scope()
    name = " ".join(words)
    group = app.directory.group_named(name)
    if group:
        return Scope(room_id=group.id)
    for code, label in CATEGORIES.items():
        if name in (code, label, label.removesuffix("群")):
            return Scope(category=code)
    return None


@plugin.command("统计", roles=MANAGERS, summary="查看群内交流、咨询、建议等统计",
                usage="[本周|上周|本月|昨天|日期|FROM..TO] [群名或分类] [发布]")
async def show_stats(ctx: Context) -> None:
    words = list(ctx.args)
    publish = "发布" in words
    words = [w for w in words if w != "发布"]
    today = ctx.now.date()
    period, what = None, ""
    if words:
        period = reports.parse_period(words[0], today)
        if period:
            what = WHAT.get(words[0], "")
            words = words[1:]
    if publish:
        await _publish_again(ctx, period or reports.last_week(today))
        return
    if period is None:
        period, what = reports.parse_period("本周", today), "本周"
    scope = resolve_scope(ctx.app, words)
    if scope is None:
        await ctx.reply(TEXTS["unknown_scope"].format(name=" ".join(words), categories="、".join(CATEGORIES.values())))
        return
    data = await reports.gather(ctx.session, ctx.app.name, period, scope, today=today)
    whole = scope == Scope()
    if whole:
        data.extra = await ctx.app.report_lines(ctx.session, period)
    heading = what + (_scope_name(ctx.app, scope) if not whole else "")
    await ctx.reply(reports.render(data, ctx.app.config, ctx.app.directory, weekly=False, what=heading,
                                   by_category=scope.room_id is None))


def _scope_name(app, scope: Scope) -> str:
    if scope.room_id:
        g = app.directory.group(scope.room_id)
        return f"（{g.name if g else scope.room_id}）"
    return f"（{CATEGORIES.get(scope.category or '', scope.category)}）"


async def _publish_again(ctx: Context, period: Period) -> None:
    if ctx.role not in STAFF:
        await ctx.reply(TEXTS["publish_only_staff"])
        ctx.outcome = "denied"
        return
    app = ctx.app
    now = ctx.now  # read once: the clock moves on while the report is put together
    n = await publish_weekly(app, period, again_at=now, session=ctx.session)
    if not n:
        await ctx.reply(TEXTS["no_work_group"])
        return
    # The report goes through quiet hours like every group post: say when it really arrives.
    start = quiet_end(now, app.config.quiet_hours.start, app.config.quiet_hours.end)
    named = f"{period.start.month}月{period.start.day}日至{period.end.month}月{period.end.day}日的"
    await ctx.reply(TEXTS["published"].format(n=n, period=named) if start == now else
                    TEXTS["published_later"].format(n=n, period=named,
                                                    at=f"{start.astimezone(app.clock.tz):%m-%d %H:%M}"))


plugin.cli(cli.extend)
