"""District statistics: every community of a district counted with the single-bot queries
(storage.stats, GROUP BY bot), turned into the bureau's weekly report, a CSV and a chart.

Tips are counted per unit from the tip rows; no tip's words are read here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CATEGORIES, Config
from bot.district import District
from handlers.stats.report import MESSAGE_METRICS, Period, change_text, fmt_count, group_messages, messages_of, topic_name
from storage import stats
from storage import tips as tip_store
from storage.stats import Totals

SINCE_METRICS = [*MESSAGE_METRICS, "consultations", "suggestions"]  # what the 累计 line says
OWN_OFFICERS = "社区民警"  # a tip no unit handles stays with the community's officers
TOP_COMMUNITIES = 10  # the weekly post names the busiest; the CSV and the shell list them all
CHART_COMMUNITIES = 15

TEXTS = {
    "weekly_head": "【{district}警民群周报】{start}至{end}",
    "period_head": "【{district}统计】{start}至{end}",
    "overview": "全区{communities}个社区、{groups}个警民微信群（{kinds}大类）：群内交流信息{messages}条（{change}），"
                "提供业务办理咨询{consultations}次（{c_change}），收到群众意见和建议{suggestions}条（{s_change}）。",
    "tips": "线索举报{total}条（{change}）：{units}。",
    "no_tips": "线索举报0条。",
    "unit": "{unit}{n}条",
    "service": "预约办理{booked}件（{b_change}）；推送反诈宣传{antifraud}次、社区公告{announcement}次、警务动态{police_news}次。",
    "category_head": "分类情况：",
    "category_line": "  {name}（{groups}个群）：信息{messages}条，咨询{consultations}次，建议{suggestions}条",
    "topics": "热门咨询：{topics}。",
    "community_head": "各社区（按群内交流信息）：",
    "community_line": "  {name}：信息{messages}条（{change}），咨询{consultations}次，建议{suggestions}条，"
                      "线索{tips}条，预约{booked}件，推送{pushes}次",
    "rest": "  其余{n}个社区：信息{messages}条，咨询{consultations}次，建议{suggestions}条",
    "quiet": "本期无群内交流的社区{n}个：{names}。",
    "since": "累计：{first}以来，{district}{kinds}大类警民微信群与群众交流信息{messages}条，提供业务办理咨询{consultations}次，"
             "收到群众意见和建议{suggestions}条。",
    "chart_title": "{district} {start}至{end} 各社区交流、咨询和建议",
    "chart_rest": "其余{n}个平均",
}

CSV_COLUMNS = ("社区", "bot", "分类", "交流信息", "上期交流信息", "业务咨询", "上期业务咨询", "意见建议", "上期意见建议",
               "线索举报", "上期线索举报", "预约办理", "上期预约办理", "推送", "上期推送")


@dataclass
class Numbers:
    """What the district report says of one community (or of the whole district) in one period."""

    messages: int = 0
    consultations: int = 0
    suggestions: int = 0
    tips: int = 0
    booked: int = 0
    pushes: int = 0

    @classmethod
    def of(cls, totals: Totals, tips: dict[str, int]) -> Numbers:
        return cls(group_messages(totals), totals.get("consultations"), totals.get("suggestions"),
                   sum(tips.values()), totals.get("appointments_booked"), totals.get("pushes"))

    def __add__(self, other: Numbers) -> Numbers:
        return Numbers(*(a + b for a, b in zip(self.row(), other.row())))

    def row(self) -> tuple[int, ...]:
        return (self.messages, self.consultations, self.suggestions, self.tips, self.booked, self.pushes)


@dataclass
class DistrictReport:
    district: District
    period: Period
    names: dict[str, str]  # bot -> community name
    current: dict[str, Totals]
    previous: dict[str, Totals]
    tips: dict[str, dict[str, int]]  # bot -> unit -> tips in the period
    tips_before: dict[str, dict[str, int]]
    groups: dict[str, dict[str, int]]  # bot -> category -> groups
    since: dict[str, Totals] | None = None  # from the first day counted to the period's end
    first_day: date | None = None

    @property
    def bots(self) -> list[str]:
        return self.district.bots

    def numbers(self, bot: str) -> Numbers:
        return Numbers.of(self.current[bot], self.tips[bot])

    def numbers_before(self, bot: str) -> Numbers:
        return Numbers.of(self.previous[bot], self.tips_before[bot])

    def whole(self) -> tuple[Numbers, Numbers]:
        return (sum((self.numbers(b) for b in self.bots), Numbers()),
                sum((self.numbers_before(b) for b in self.bots), Numbers()))

    def by_category(self) -> dict[str, dict[str, int]]:
        """category -> metric -> sum over every community ('': private chats, uncategorised groups)."""
        merged: dict[str, dict[str, int]] = {}
        for totals in self.current.values():
            for category, numbers in totals.by_category.items():
                into = merged.setdefault(category, {})
                for metric, value in numbers.items():
                    into[metric] = into.get(metric, 0) + value
        return merged

    def units(self) -> tuple[dict[str, int], dict[str, int]]:
        now: dict[str, int] = {}
        before: dict[str, int] = {}
        for per_bot, into in ((self.tips, now), (self.tips_before, before)):
            for units in per_bot.values():
                for unit, n in units.items():
                    name = unit or OWN_OFFICERS
                    into[name] = into.get(name, 0) + n
        return now, before

    def ranked(self) -> list[str]:
        """The communities, busiest first (group messages, then consultations), then by name."""
        return sorted(self.bots, key=lambda b: (-self.numbers(b).messages, -self.numbers(b).consultations,
                                                self.names[b]))


def _bounds(period: Period, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(period.start, time(), tz), datetime.combine(period.end + timedelta(days=1), time(), tz))


async def gather(session: AsyncSession, district: District, period: Period, tz: ZoneInfo, *,
                 today: date | None = None, since: bool = True) -> DistrictReport:
    """Every number of the district report: a handful of queries, whatever the number of communities.
    `since`: also the totals since the first day counted (the article's "2019年以来 ... 1.2万余条")."""
    bots = district.bots
    if today is not None:
        _, rolled = await stats.roll_up_and_tell(session, bots, today)
    else:
        rolled = await stats.last_rolled(session, bots)
    prev = period.previous()
    current = await stats.totals_by_bot(session, bots, period.start, period.end, rolled=True, rooms=False,
                                        known_rolled=rolled)
    previous = await stats.totals_by_bot(session, bots, prev.start, prev.end, rolled=True, rooms=False,
                                         known_rolled=rolled)
    tips = await tip_store.counts_by_unit(session, bots, *_bounds(period, tz))
    tips_before = await tip_store.counts_by_unit(session, bots, *_bounds(prev, tz))
    groups = await stats.groups_by_category(session, bots)
    report = DistrictReport(district, period, district.community_names(), current, previous, tips, tips_before,
                            groups)
    if since:
        report.since = await stats.since_start_by_bot(session, bots, period.end, rooms=False, metrics=SINCE_METRICS,
                                                      known_rolled=rolled)
        report.first_day = await stats.first_month_of(session, bots)
    return report


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"


def render(report: DistrictReport, config: Config | None = None, *, weekly: bool,
           top: int | None = TOP_COMMUNITIES) -> str:
    """The report text; `top`: how many communities to name (None: all)."""
    period = report.period
    before = "前一周" if weekly or period.days == 7 else "前一时段"
    now, was = report.whole()
    kinds = sum(1 for code in CATEGORIES if any(g.get(code) for g in report.groups.values()))
    lines = [TEXTS["weekly_head" if weekly else "period_head"].format(
        district=report.district.name, start=_md(period.start), end=_md(period.end))]
    lines.append(TEXTS["overview"].format(
        communities=len(report.bots), groups=sum(sum(g.values()) for g in report.groups.values()), kinds=kinds,
        messages=fmt_count(now.messages), change=change_text(now.messages, was.messages, before),
        consultations=fmt_count(now.consultations), c_change=change_text(now.consultations, was.consultations, before),
        suggestions=fmt_count(now.suggestions), s_change=change_text(now.suggestions, was.suggestions, before)))
    units, units_before = report.units()
    if now.tips:
        listed = "、".join(TEXTS["unit"].format(unit=u, n=n) for u, n in sorted(units.items(), key=lambda kv: (-kv[1], kv[0]))
                          if n)
        lines.append(TEXTS["tips"].format(total=now.tips, change=change_text(now.tips, was.tips, before), units=listed))
    else:
        lines.append(TEXTS["no_tips"])
    pushes = {k: sum(t.get("pushes", k) for t in report.current.values()) for k in ("antifraud", "announcement", "police_news")}
    lines.append(TEXTS["service"].format(booked=now.booked, b_change=change_text(now.booked, was.booked, before),
                                         **pushes))
    lines.extend(_category_lines(report))
    topics: dict[str, int] = {}
    for totals in report.current.values():
        for key, n in totals.keys("consultation_topics").items():
            topics[key] = topics.get(key, 0) + n
    best = sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    if best:
        lines.append(TEXTS["topics"].format(topics="、".join(
            f"{topic_name(config, k) if config is not None else k}（{n}次）" for k, n in best)))
    lines.extend(_community_lines(report, before, top))
    if report.since is not None:
        total = sum((Numbers.of(t, {}) for t in report.since.values()), Numbers())
        first = report.first_day or period.start
        lines.append(TEXTS["since"].format(
            first=f"{first.year}年{first.month}月", district=report.district.name, kinds=kinds,
            messages=fmt_count(total.messages), consultations=fmt_count(total.consultations),
            suggestions=fmt_count(total.suggestions)))
    return "\n".join(lines)


def _category_lines(report: DistrictReport) -> list[str]:
    merged = report.by_category()
    lines = [TEXTS["category_head"]]
    for code, name in CATEGORIES.items():
        numbers = merged.get(code, {})
        groups = sum(g.get(code, 0) for g in report.groups.values())
        if groups or numbers:
            lines.append(TEXTS["category_line"].format(
                name=name, groups=groups, messages=fmt_count(messages_of(numbers)),
                consultations=numbers.get("consultations", 0), suggestions=numbers.get("suggestions", 0)))
    return lines if len(lines) > 1 else []


def _community_lines(report: DistrictReport, before: str, top: int | None) -> list[str]:
    ranked = report.ranked()
    active = [b for b in ranked if any(report.numbers(b).row())]
    quiet = [b for b in ranked if not report.numbers(b).messages]
    shown = active if top is None else active[:top]
    lines = [TEXTS["community_head"]] if shown else []
    for bot in shown:
        n, was = report.numbers(bot), report.numbers_before(bot)
        lines.append(TEXTS["community_line"].format(
            name=report.names[bot], messages=fmt_count(n.messages), change=change_text(n.messages, was.messages, before),
            consultations=n.consultations, suggestions=n.suggestions, tips=n.tips, booked=n.booked, pushes=n.pushes))
    rest = active[len(shown):]
    if rest:
        total = sum((report.numbers(b) for b in rest), Numbers())
        lines.append(TEXTS["rest"].format(n=len(rest), messages=fmt_count(total.messages),
                                          consultations=total.consultations, suggestions=total.suggestions))
    if quiet:
        names = "、".join(report.names[b] for b in quiet[:20]) + ("等" if len(quiet) > 20 else "")
        lines.append(TEXTS["quiet"].format(n=len(quiet), names=names))
    return lines


def to_csv(report: DistrictReport) -> str:
    """One row per community and category it has numbers in, then the community's total (分类 合计,
    with its tips per unit), then the district's total."""
    out = io.StringIO()
    units = sorted({u or OWN_OFFICERS for per in (report.tips, report.tips_before) for m in per.values() for u in m})
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS + tuple(f"线索举报（{u}）" for u in units))
    for bot in sorted(report.bots, key=lambda b: report.names[b]):
        cur, prev = report.current[bot], report.previous[bot]
        for code, label in CATEGORIES.items():
            now, was = _category_numbers(cur, code), _category_numbers(prev, code)
            if any(now.row()) or any(was.row()):
                writer.writerow([report.names[bot], bot, label, *_pairs(now, was)])
        tips = {(u or OWN_OFFICERS): n for u, n in report.tips[bot].items()}
        writer.writerow([report.names[bot], bot, "合计", *_pairs(report.numbers(bot), report.numbers_before(bot)),
                         *(tips.get(u, 0) for u in units)])
    now, was = report.whole()
    unit_now, _ = report.units()
    writer.writerow(["全区", "", "合计", *_pairs(now, was), *(unit_now.get(u, 0) for u in units)])
    return out.getvalue()


def _category_numbers(totals: Totals, category: str) -> Numbers:
    numbers = totals.by_category.get(category, {})
    return Numbers(messages_of(numbers), numbers.get("consultations", 0), numbers.get("suggestions", 0),
                   0, numbers.get("appointments_booked", 0), numbers.get("pushes", 0))


def _pairs(now: Numbers, was: Numbers) -> list[int]:
    return [v for pair in zip(now.row(), was.row()) for v in pair]


def chart_series(report: DistrictReport, limit: int = CHART_COMMUNITIES) -> tuple[list[str], dict[str, list[int]]]:
    """The chart's bars: the busiest communities, then the rest's average in one."""
    ranked = report.ranked()
    shown, rest = ranked[:limit], ranked[limit:]
    labels = [report.names[b] for b in shown]
    numbers = [report.numbers(b) for b in shown]
    if rest:  # their average: a sum of 170 communities would dwarf every bar named
        labels.append(TEXTS["chart_rest"].format(n=len(rest)))
        total = sum((report.numbers(b) for b in rest), Numbers())
        numbers.append(Numbers(*(round(v / len(rest)) for v in total.row())))
    return labels, {"messages": [n.messages for n in numbers], "consultations": [n.consultations for n in numbers],
                    "suggestions": [n.suggestions for n in numbers]}
