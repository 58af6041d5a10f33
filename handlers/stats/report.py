"""The numbers of a period turned into the text officers read, in the article's style."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import timewords
from bot.config import CATEGORIES, Config
from bot.directory import Directory
from bot.messages import MessageKind
from storage import stats
from storage.stats import Scope, Totals

log = logging.getLogger(__name__)

MESSAGE_METRICS = ["messages"] + [f"messages_{k.value}" for k in MessageKind if k != MessageKind.TEXT]
CHART_METRICS = ["consultations", "suggestions"]
WEEKDAY_NAMES = "一二三四五六日"


TEXTS = {
    "weekly_head": "【{community}警民群周报】{start}至{end}",
    "period_head": "【{community}统计】{what}{start}至{end}",
    "messages": "群内交流信息{messages}条（{change}），参与交流{active}人次。",
    "private_service": "私聊办理服务（预约、举报、咨询等）收到消息{messages}条。",
    "consultations": "业务咨询{total}次（自动解答{answered}次，转民警{forwarded}次）；意见建议{suggestions}条（{s_change}）；线索举报{tips}条。",
    "appointments": "预约办理{booked}件：办结{completed}件，取消{cancelled}件，未到{no_show}件。",
    "pushes": "推送反诈宣传{antifraud}次、社区公告{announcement}次、警务动态{police_news}次。",
    "safety": "紧急求助提醒{emergencies}次，诈骗话术预警{scam}次；新入群{members}人，新加好友{friends}人。",
    "category_head": "分群情况：",
    "category_line": "  {name}（{groups}个群）：信息{messages}条，咨询{consultations}次，建议{suggestions}条",
    "private_line": "  私聊：信息{messages}条，咨询{consultations}次，建议{suggestions}条",
    "topics": "热门咨询：{topics}。",
    "extra_head": "待办事项：",
    "since": "累计：自{first}以来，累计群内交流信息{messages}条，业务咨询{consultations}次，意见建议{suggestions}条，"
             "线索举报{tips}条，预约办理{booked}件。",
    "change_up": "比{before}增加{pct}%",
    "change_down": "比{before}减少{pct}%",
    "change_same": "与{before}持平",
    "change_new": "{before}无记录",
    "before_week": "前一周",
    "before_period": "前一时段",
}


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    @property
    def iso_week(self) -> str:
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"


def week_of(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=6))


def last_week(today: date) -> Period:
    return week_of(today - timedelta(days=7))


def month_of(day: date) -> Period:
    return Period(day.replace(day=1), stats.next_month(day) - timedelta(days=1))


_RANGE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*(?:\.\.|至|到|~|～|—)\s*(\d{4}-\d{1,2}-\d{1,2})$")


DAY_WORDS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_period(word: str, today: date) -> Period | None:
    """本周 | 上周 | 本月 | 上月 | 今天 | 昨天 | 前天 | YYYY-MM-DD | YYYY-MM-DD..YYYY-MM-DD;
    None if the word is none of these."""
    if word in DAY_WORDS:
        day = today - timedelta(days=DAY_WORDS[word])
        return Period(day, day)
    single = _DAY.match(word)
    if single:
        try:
            day = date(*(int(p) for p in single.groups()))
        except ValueError:
            return None
        return Period(day, day)
    if word == "本周":
        return Period(week_of(today).start, today)
    if word == "上周":
        return last_week(today)
    if word == "本月":
        return Period(today.replace(day=1), today)
    if word == "上月":
        return month_of(today.replace(day=1) - timedelta(days=1))
    match = _RANGE.match(word)
    if match:
        try:  # bot.timewords reads the dates, so 9999-01-01 is refused, not a crash further on
            start, end = (timewords.parse_date(s, today) for s in match.groups())
        except timewords.DateOutOfRange:
            return None
        if start is None or end is None:
            return None
        return Period(start, end) if start <= end else None
    return None


def fmt_count(n: int) -> str:
    """1.2万余 for 12345, 1.2万 for 12000, 150 for 150: how the article writes big numbers."""
    for unit, size in (("亿", 100_000_000), ("万", 10_000)):
        if n >= size:
            tenths = n * 10 // size
            whole = tenths * size // 10
            text = f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"
            return f"{text}{unit}" if whole == n else f"{text}{unit}余"
    return str(n)


def change_text(cur: int, prev: int, before: str = TEXTS["before_week"]) -> str:
    if prev == 0:
        return (TEXTS["change_same"] if cur == 0 else TEXTS["change_new"]).format(before=before)
    pct = round((cur - prev) * 100 / prev)
    if pct > 0:
        return TEXTS["change_up"].format(pct=pct, before=before)
    if pct < 0:
        return TEXTS["change_down"].format(pct=-pct, before=before)
    return TEXTS["change_same"].format(before=before)


def messages_of(numbers: dict[str, int] | Totals) -> int:
    if isinstance(numbers, Totals):
        return sum(numbers.get(m) for m in MESSAGE_METRICS)
    return sum(numbers.get(m, 0) for m in MESSAGE_METRICS)


def group_messages(totals: Totals) -> int:
    """What people said in the groups (the article's 交流信息): not private chats, not commands."""
    return sum(messages_of(numbers) for room, numbers in totals.by_room.items() if room)


def private_messages(totals: Totals) -> int:
    """What residents wrote to the bot in private: the steps of bookings, tips and questions."""
    return messages_of(totals.by_room.get("", {}))


def topic_name(config: Config, entry_id: str) -> str:
    """The guide's name for a consultation topic (the guide plugin may not be loaded)."""
    entry = next((e for e in getattr(config, "guide", []) if e.id == entry_id), None)
    if entry is not None:
        return entry.topic
    from handlers.guide.library import builtin_title  # the built-in library ships with the package

    return builtin_title(entry_id) or entry_id


@dataclass
class Report:
    period: Period
    current: Totals
    previous: Totals
    since: Totals
    active: int
    first_day: date | None
    extra: list[str] = field(default_factory=list)


async def gather(session: AsyncSession, bot: str, period: Period, scope: Scope = Scope(), *,
                 today: date | None = None) -> Report:
    """Every number a report needs: the period, the period before, and since the start."""
    if today is not None:
        await stats.roll_up_months(session, bot, today)
    current = await stats.totals(session, bot, period.start, period.end, scope)
    prev = period.previous()
    previous = await stats.totals(session, bot, prev.start, prev.end, scope)
    since = await stats.since_start(session, bot, period.end, scope)
    active = await stats.active_people(session, bot, period.start, period.end, scope)
    first = await stats.first_day(session, bot)
    return Report(period, current, previous, since, active, first)


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"


def render(report: Report, config: Config, directory: Directory, *, weekly: bool, what: str = "",
           by_category: bool = True) -> str:
    cur, prev, since = report.current, report.previous, report.since
    head = TEXTS["weekly_head" if weekly else "period_head"].format(
        community=config.bot.community, what=what, start=_md(report.period.start), end=_md(report.period.end))
    before = TEXTS["before_week" if weekly or report.period.days == 7 else "before_period"]
    lines = [head]
    lines.append(TEXTS["messages"].format(messages=fmt_count(group_messages(cur)),
                                          change=change_text(group_messages(cur), group_messages(prev), before),
                                          active=report.active))
    if private_messages(cur):
        lines.append(TEXTS["private_service"].format(messages=fmt_count(private_messages(cur))))
    lines.append(TEXTS["consultations"].format(
        total=cur.get("consultations"), answered=cur.get("consultations", "answered"),
        forwarded=cur.get("consultations", "forwarded"), suggestions=cur.get("suggestions"),
        s_change=change_text(cur.get("suggestions"), prev.get("suggestions"), before), tips=cur.get("tips")))
    lines.append(TEXTS["appointments"].format(
        booked=cur.get("appointments_booked"), completed=cur.get("appointments_completed"),
        cancelled=cur.get("appointments_cancelled"), no_show=cur.get("appointments_no_show")))
    lines.append(TEXTS["pushes"].format(antifraud=cur.get("pushes", "antifraud"),
                                        announcement=cur.get("pushes", "announcement"),
                                        police_news=cur.get("pushes", "police_news")))
    lines.append(TEXTS["safety"].format(emergencies=cur.get("emergencies"), scam=cur.get("scam_warnings"),
                                        members=cur.get("new_members"), friends=cur.get("new_friends")))
    if by_category:
        lines.extend(_category_lines(cur, directory))
    topics = sorted(cur.keys("consultation_topics").items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    if topics:
        lines.append(TEXTS["topics"].format(
            topics="、".join(f"{topic_name(config, k)}（{v}次）" for k, v in topics)))
    if report.extra:
        lines.append(TEXTS["extra_head"] + "；".join(report.extra) + "。")
    first = report.first_day or report.period.start
    lines.append(TEXTS["since"].format(
        first=f"{first.year}年{first.month}月", messages=fmt_count(group_messages(since)),
        consultations=fmt_count(since.get("consultations")), suggestions=fmt_count(since.get("suggestions")),
        tips=fmt_count(since.get("tips")), booked=fmt_count(since.get("appointments_booked"))))
    return "\n".join(lines)


def _category_lines(cur: Totals, directory: Directory) -> list[str]:
    lines = [TEXTS["category_head"]]
    for code, name in CATEGORIES.items():
        numbers = cur.by_category.get(code, {})
        groups = len(directory.groups_in(code))
        if not groups and not numbers:
            continue
        lines.append(TEXTS["category_line"].format(
            name=name, groups=groups, messages=fmt_count(messages_of(numbers)),
            consultations=numbers.get("consultations", 0), suggestions=numbers.get("suggestions", 0)))
    private = cur.by_room.get("", {})
    if private:
        lines.append(TEXTS["private_line"].format(
            messages=fmt_count(messages_of(private)), consultations=private.get("consultations", 0),
            suggestions=private.get("suggestions", 0)))
    return lines
