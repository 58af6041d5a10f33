"""节假日: which days the bot treats as holidays and make-up workdays, shown and set in chat.

    /节假日 [2027]                        the year's holidays and 调休, and on whose word
    /节假日 添加 2027-02-09[..2027-02-11] [春节]   days off
    /节假日 调休 2027-02-20 [春节]         a weekend day worked (a make-up workday)
    /节假日 删除 2027-02-09[..2027-02-11]  back to an ordinary day (weekends off)

The days are kept in calendar_days and read by the core's WorkCalendar (bot/workcal.py), which
pushes (节假日不发, 工作日) and bookings ask. On 1 November (and 1 December), while next year's
arrangement is not published, officers are told that the bot only knows the statutory days.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.context import Context
from bot.messages import Outgoing
from bot.plugin import OFFICER, STAFF, Plugin
from bot.workcal import HOLIDAY, ORDINARY, WORKDAY, DayInfo, WorkCalendar
from storage import calendar_days

plugin = Plugin("holidays", order=45)

JOB_ID, JOB_KIND = "holidays:next-year", "holidays_next_year"
NOTICE_FROM_MONTH = 11  # the State Council publishes the next year's arrangement around November
MAX_DAYS = 31

WEEKDAYS = "一二三四五六日"
SOURCES = {"official": "国务院公布的安排", "statutory": "按《全国年节及纪念日放假办法》推算", "local": "本地设置"}

TEXTS = {
    "head": "【{year}年节假日】",
    "official": "以下是国务院公布的{year}年放假调休安排。",
    "statutory": "国务院还没有公布{year}年的放假调休安排，下面是按《全国年节及纪念日放假办法》推算的法定节日"
                 "（元旦1天，春节除夕至初三，清明、端午、中秋各1天，劳动节5月1日至2日，国庆10月1日至3日），不含调休。"
                 "公布后请用 /节假日 添加 和 /节假日 调休 补上。",
    "holiday_line": "{name}：{days}{mark}",
    "workday_head": "调休上班：",
    "workday_line": "  {day}（周{weekday}）{name}{mark}",
    "ordinary_head": "本地改为平常日子的：{days}",
    "no_workday": "调休上班：无",
    "local_mark": "（本地设置）",
    "tail": "修改：/节假日 添加 日期 [名称]，/节假日 调休 日期，/节假日 删除 日期；日期写成 2027-02-09，"
            "连续几天写 2027-02-09..2027-02-11。",
    "bad_year": "请写四位年份，例如：/节假日 2027",
    "bad_days": "没看懂“{text}”。日期请写成 2027-02-09，连续几天写成 2027-02-09..2027-02-11（最多{max}天）。",
    "added": "好的，{days} 记为{name}休息日，推送的“节假日不发”和预约都会按这个安排。",
    "workday_added": "好的，{days} 记为调休上班日{name}，按工作日安排推送和预约。",
    "removed": "好的，{days} 改回平常日子（周一至周五上班，周末休息）。",
    "holiday_name": "“{name}”",
    "next_year_unknown": "提醒：国务院还没有公布{year}年的放假调休安排。在公布之前，机器人只按《全国年节及纪念日放假办法》"
                         "把法定节日当作休息日（元旦、春节除夕至初三、清明、劳动节、端午、中秋、国庆），不知道调休和补班。"
                         "公布后请发 /节假日 添加 和 /节假日 调休 补上；发 /节假日 {year} 可以查看。",
}

_DAY = r"\d{4}-\d{1,2}-\d{1,2}"
_DAYS = re.compile(rf"({_DAY})(?:\s*(?:\.\.|至|到|~|～)\s*({_DAY}))?")


def parse_days(text: str) -> list[date] | None:
    """"2027-02-09" or "2027-02-09..2027-02-11": the days, or None if it is neither (or too long)."""
    match = _DAYS.fullmatch(text.strip())
    if not match:
        return None
    try:
        first, last = (date(*(int(p) for p in s.split("-"))) for s in (match[1], match[2] or match[1]))
    except ValueError:
        return None
    if last < first or (last - first).days >= MAX_DAYS:
        return None
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# ---- showing a year ------------------------------------------------------------------------------

def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"


def _runs(days: list[DayInfo]) -> list[list[DayInfo]]:
    """Consecutive days off of one name (and one source) together: 春节 2月5日至2月8日."""
    runs: list[list[DayInfo]] = []
    for info in days:
        last = runs[-1][-1] if runs else None
        if last and last.day + timedelta(days=1) == info.day and (last.name, last.source) == (info.name, info.source):
            runs[-1].append(info)
        else:
            runs.append([info])
    return runs


def year_text(calendar: WorkCalendar, year: int) -> str:
    days = calendar.year_days(year)
    lines = [TEXTS["head"].format(year=year),
             TEXTS["official" if calendar.knows_year(year) else "statutory"].format(year=year)]
    for run in _runs([d for d in days if not d.workday]):
        span = _md(run[0].day) + (f"至{_md(run[-1].day)}" if len(run) > 1 else "")
        lines.append(TEXTS["holiday_line"].format(name=run[0].name or "休息日", days=span,
                                                  mark=TEXTS["local_mark"] if run[0].source == "local" else ""))
    workdays = [d for d in days if d.workday]
    if workdays:
        lines.append(TEXTS["workday_head"])
        lines += [TEXTS["workday_line"].format(day=_md(d.day), weekday=WEEKDAYS[d.day.weekday()],
                                               name=f"（{d.name}）" if d.name else "",
                                               mark=TEXTS["local_mark"] if d.source == "local" else "")
                  for d in workdays]
    else:
        lines.append(TEXTS["no_workday"])
    ordinary = sorted(d for d, (kind, _) in _stored(calendar).items() if kind == ORDINARY and d.year == year)
    if ordinary:
        lines.append(TEXTS["ordinary_head"].format(days="、".join(_md(d) for d in ordinary)))
    lines.append(TEXTS["tail"])
    return "\n".join(lines)


def _stored(calendar: WorkCalendar) -> dict[date, tuple[str, str]]:
    return calendar._stored  # noqa: SLF001 - the plugin that writes them reads them back


@plugin.command("节假日", roles=STAFF, summary="查看和设置节假日、调休（推送和预约按它安排）", usage="[年份]")
async def show_year(ctx: Context) -> None:
    words = ctx.args
    if words and not re.fullmatch(r"\d{4}", words[0]) or len(words) > 1:
        await ctx.reply(TEXTS["bad_year"])
        ctx.outcome = "refused: year"
        return
    await ctx.reply(year_text(ctx.app.calendar, int(words[0]) if words else ctx.now.year))


# ---- setting days --------------------------------------------------------------------------------

_SET = r"(?P<days>\S+(?:\s*(?:\.\.|至|到)\s*\S+)?)(?:\s+(?P<name>\S{1,16}))?"


async def _set(ctx: Context, days_text: str, kind: str, name: str | None) -> list[date] | None:
    days = parse_days(days_text)
    if days is None:
        await ctx.reply(TEXTS["bad_days"].format(text=days_text, max=MAX_DAYS))
        ctx.outcome = "refused: days"
        return None
    app = ctx.app
    await calendar_days.put(ctx.session, app.name, days, kind, name or "", ctx.sender.id, ctx.now)
    app.calendar.set_stored(await calendar_days.load(ctx.session, app.name))
    ctx.outcome = f"{kind} {days[0]}..{days[-1]}"
    return days


def _span(days: list[date]) -> str:
    return days[0].isoformat() + (f" 至 {days[-1].isoformat()}" if len(days) > 1 else "")


@plugin.subcommand("节假日", "添加", pattern=_SET, usage="日期[..日期] [名称]", summary="把这些日子记为休息日")
async def add_holiday(ctx: Context, days: str, name: str | None = None) -> None:
    found = await _set(ctx, days, HOLIDAY, name)
    if found:
        await ctx.reply(TEXTS["added"].format(days=_span(found),
                                              name=TEXTS["holiday_name"].format(name=name) if name else ""))


@plugin.subcommand("节假日", "调休", pattern=_SET, usage="日期 [名称]", summary="把周末的某天记为调休上班日")
async def add_workday(ctx: Context, days: str, name: str | None = None) -> None:
    found = await _set(ctx, days, WORKDAY, name)
    if found:
        await ctx.reply(TEXTS["workday_added"].format(days=_span(found), name=f"（{name}）" if name else ""))


@plugin.subcommand("节假日", "删除", pattern=r"(?P<days>\S+(?:\s*(?:\.\.|至|到)\s*\S+)?)", usage="日期[..日期]",
                   summary="把这些日子改回平常日子")
async def remove_days(ctx: Context, days: str) -> None:
    """A day set here is taken back; a holiday or 调休 the calendar itself gives is overridden by an
    ordinary day, so that "删除" always leaves a plain weekday or weekend."""
    found = parse_days(days)
    if found is None:
        await ctx.reply(TEXTS["bad_days"].format(text=days, max=MAX_DAYS))
        ctx.outcome = "refused: days"
        return
    app = ctx.app
    await calendar_days.remove(ctx.session, app.name, found)
    app.calendar.set_stored(await calendar_days.load(ctx.session, app.name))
    given = [d for d in found if app.calendar.info(d).source != "weekend"]
    if given:
        await calendar_days.put(ctx.session, app.name, given, ORDINARY, "", ctx.sender.id, ctx.now)
        app.calendar.set_stored(await calendar_days.load(ctx.session, app.name))
    ctx.outcome = f"ordinary {found[0]}..{found[-1]}"
    await ctx.reply(TEXTS["removed"].format(days=_span(found)))


# ---- next year not known yet ---------------------------------------------------------------------

@plugin.on_start
async def schedule_notice(app) -> None:
    """On 1 November and again on 1 December at 09:00 (a bot that was down then tells them the same
    day, within the grace)."""
    trigger = CronTrigger(month=f"{NOTICE_FROM_MONTH}-12", day=1, hour=9, minute=0, timezone=app.clock.tz)
    await app.scheduler.add(JOB_ID, JOB_KIND, {}, trigger, grace=timedelta(hours=12))


@plugin.job(JOB_KIND)
async def tell_next_year_unknown(app, payload: dict, due: datetime) -> None:
    """If next year's arrangement is neither in the package nor entered here, each officer is told
    (the dedup key names the year and month: a catch-up after a restart says it once)."""
    today = due.astimezone(app.clock.tz).date()
    year = today.year + 1
    if today.month < NOTICE_FROM_MONTH or app.calendar.knows_year(year) or app.calendar.has_local_days(year):
        return
    async with app.transaction() as session:
        for person in app.directory.with_roles(OFFICER):
            await app.send(session, Outgoing(None, person.id, TEXTS["next_year_unknown"].format(year=year)),
                           dedup_key=f"holidays:unknown:{year}-{today.month}:{person.id}", source="holidays")
