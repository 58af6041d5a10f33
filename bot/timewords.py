"""Chinese time words, the way people type them: one reading for every feature.

    十点  10点半  九点半  下午两点  晚上8点 (20:00)  中午  10:30  三点一刻
    今天  明天/明日  后天  大后天  周五  下周三  这周五  8号  12月8号  十二月八日
    2026-12-08  2026/12/8  2026年12月8日  12-08
    后天上午十点 (a day and a time in one answer)     随便 / 都行 / 最早 (whatever is free first)

`read(text, today)` finds them anywhere in a sentence ("那就后天上午十点吧") and returns a
`Moment`; `parse_date` / `parse_time` are the single-value forms. Pure: text and today in, values
out; knows no feature. The regex fragments (`NUM`, `TIME_PATTERN`) and `number`, `apply_period`,
`RELATIVE_DAYS`, `resolve_month_day` are shared with the /定时 schedule grammar, so "晚上8点" is
20:00 everywhere.

A year far from today (9999, 1900) is a `DateOutOfRange` with a sentence to send back, never a
date that breaks a database or a start.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta

MIN_YEAR = 2000
YEARS_AHEAD = 5  # the furthest anyone plans a booking, a schedule or a holiday


class DateOutOfRange(ValueError):
    """A date that exists but that no feature can mean; str() is a polite sentence."""


CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
NUM = r"(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
RELATIVE_DAYS = {"今天": 0, "今日": 0, "今儿": 0, "明天": 1, "明日": 1, "明儿": 1, "后天": 2, "后日": 2,
                 "大后天": 3}
VAGUE_WORDS = ("随便", "都行", "都可以", "都好", "哪天都", "什么时候都", "啥时候都", "最早", "越早越好",
               "尽快", "最近的", "早点", "你定", "您定", "你看着办", "看着安排")
PERIODS = {"凌晨": "凌晨", "早上": "上午", "早晨": "上午", "清早": "上午", "上午": "上午", "中午": "中午",
           "晌午": "中午", "下午": "下午", "傍晚": "下午", "晚上": "晚上", "晚间": "晚上"}
WEEKDAY_CHARS = "一二三四五六日天"

# Shared with the /定时 grammar (handlers/pushes/timeexpr.py): a clock time after an optional part
# of the day. "(?=\s|$)" is theirs to add; here times sit inside sentences.
TIME_PATTERN = (
    r"\s*(?P<period>早上|早晨|上午|中午|下午|傍晚|晚上|凌晨)?\s*"
    rf"(?:(?P<h1>\d{{1,2}}):(?P<m1>\d{{2}})"
    rf"|(?P<h2>{NUM})[点时](?:(?P<half>半)|(?P<quarter>一刻|三刻)|(?P<m2>{NUM})分?|整|钟)?)"
)


def normalize(text: str) -> str:
    """Full-width digits, colons and spaces folded (NFKC); runs of spaces one; 点钟 -> 点."""
    text = unicodedata.normalize("NFKC", text).strip()
    return re.sub(r"\s+", " ", text).replace("点钟", "点")


def number(token: str) -> int | None:
    """Arabic or Chinese numerals up to 99 (九, 十五, 二十一, 〇九); None: not a number."""
    if token.isascii() and token.isdigit():
        return int(token)
    try:
        if "十" in token:
            tens, _, ones = token.partition("十")
            if "十" in ones:
                return None
            return (CN_DIGITS[tens] if tens else 1) * 10 + (CN_DIGITS[ones] if ones else 0)
        return int("".join(str(CN_DIGITS[c]) for c in token))
    except (KeyError, ValueError):
        return None


def apply_period(period: str | None, hour: int) -> int:
    """下午3点 is 15:00, 晚上8点 20:00, 中午1点 13:00; 下午15:00 is already on the 24-hour clock."""
    if period in ("下午", "傍晚", "晚上") and 1 <= hour < 12:
        return hour + 12
    if period == "中午" and 1 <= hour <= 2:
        return hour + 12
    return hour


def check_year(day: date, today: date) -> date:
    """The date itself, or DateOutOfRange for a year no one can mean (9999, 1900)."""
    _check_year_number(day.year, today)
    return day


def _check_year_number(year: int, today: date) -> None:
    if not MIN_YEAR <= year <= today.year + YEARS_AHEAD:
        raise DateOutOfRange(f"{year}年太远了，请写{MIN_YEAR}年到{today.year + YEARS_AHEAD}年之间的日子，"
                             f"例如 {today.year}-{today.month:02d}-{today.day:02d}。")


def resolve_month_day(month: int, dom: int, today: date, *, back_days: int = 31) -> date | None:
    """12月8日 without a year: this year's, or next year's when this year's lies more than
    `back_days` behind (1月4日 said in December). None: no such day (2月30日)."""
    for year in (today.year, today.year + 1):
        try:
            day = date(year, month, dom)
        except ValueError:
            continue  # 2月29日 outside a leap year
        if day >= today - timedelta(days=back_days):
            return day
    return None


@dataclass(frozen=True)
class Moment:
    """What a sentence says about when: any of a day, a clock time, a part of the day."""

    day: date | None = None
    time: time | None = None
    part: str | None = None  # 上午 | 中午 | 下午 | 晚上 | 凌晨
    vague: bool = False  # 随便 / 都行 / 最早: the earliest free will do

    @property
    def empty(self) -> bool:
        return self.day is None and self.time is None and self.part is None and not self.vague


# ---- dates --------------------------------------------------------------------------------------

_FULL_DATE = re.compile(r"(?P<y>\d{4})\s*[-/.年]\s*(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?")
_MONTH_DAY_CN = re.compile(rf"(?P<mo>{NUM})\s*月\s*(?P<d>{NUM})\s*[日号]?")
_MONTH_DAY_NUM = re.compile(r"(?<![\d:])(?P<mo>\d{1,2})[-/](?P<d>\d{1,2})(?![\d:])")
_WEEKDAY = re.compile(rf"(?P<which>下下|下个?|这个?|本|今)?\s*(?:周|星期|礼拜)(?P<wd>[{WEEKDAY_CHARS}])")
_DAY_OF_MONTH = re.compile(rf"(?<![\d月])(?P<d>{NUM})\s*[号日](?![子楼院门室])")
_RELATIVE = re.compile("|".join(sorted(RELATIVE_DAYS, key=len, reverse=True)))


def _weekday_index(c: str) -> int:
    return 6 if c in "日天" else "一二三四五六".index(c)


def _find_date(text: str, today: date) -> tuple[date | None, tuple[int, int] | None]:
    """The first date in the text and where it stands; raises DateOutOfRange."""
    if m := _FULL_DATE.search(text):
        try:
            day = date(int(m["y"]), int(m["mo"]), int(m["d"]))
        except ValueError:
            _check_year_number(int(m["y"]), today)
            return None, m.span()
        return check_year(day, today), m.span()
    if m := _RELATIVE.search(text):
        return today + timedelta(days=RELATIVE_DAYS[m[0]]), m.span()
    for pattern in (_MONTH_DAY_CN, _MONTH_DAY_NUM):
        if m := pattern.search(text):
            month, dom = number(m["mo"]), number(m["d"])
            if month is None or dom is None or not 1 <= month <= 12:
                return None, m.span()
            return resolve_month_day(month, dom, today), m.span()
    if m := _WEEKDAY.search(text):
        target = _weekday_index(m["wd"])
        which = (m["which"] or "").rstrip("个")
        if which in ("下", "下下"):  # 下周三: Wednesday of next calendar week
            weeks = 2 if which == "下下" else 1
            return today + timedelta(days=7 * weeks - today.weekday() + target), m.span()
        if which in ("这", "本", "今"):  # 这周五: this calendar week's, even if gone
            return today + timedelta(days=target - today.weekday()), m.span()
        # 周五: the coming one; said on a Friday, next week's (today is 今天)
        return today + timedelta(days=(target - today.weekday()) % 7 or 7), m.span()
    if m := _DAY_OF_MONTH.search(text):
        dom = number(m["d"])
        return (_coming_day_of_month(dom, today) if dom else None), m.span()
    return None, None


def _coming_day_of_month(dom: int, today: date) -> date | None:
    """8号: this month's if still ahead (or today), else next month's."""
    for months in (0, 1, 2):
        year, month = divmod(today.month - 1 + months, 12)
        try:
            day = date(today.year + year, month + 1, dom)
        except ValueError:
            continue
        if day >= today:
            return day
    return None


def parse_date(text: str, today: date) -> date | None:
    """The day a text names (None: it names none, or none that exists); raises DateOutOfRange."""
    day, _ = _find_date(normalize(text), today)
    return day


# ---- clock times --------------------------------------------------------------------------------

_CLOCK = re.compile(TIME_PATTERN)
_PART = re.compile("|".join(sorted(PERIODS, key=len, reverse=True)))


def _clock_of(m: re.Match) -> time | None:
    hour = number(m["h1"] or m["h2"])
    if m["half"]:
        minute = 30
    elif m["quarter"]:
        minute = 15 if m["quarter"] == "一刻" else 45
    else:
        minute = number(m["m1"] or m["m2"] or "0")
    if hour is None or minute is None:
        return None
    hour = apply_period(m["period"], hour)
    if not 0 <= hour <= 23 or not 0 <= minute <= 59:
        return None
    return time(hour, minute)


def parse_time(text: str) -> time | None:
    """10:30, 十点, 九点半, 下午两点, 晚上8点 -> a time of day; 中午 alone is 12:00. A bare
    number is a choice, not a time (None)."""
    return read_clock(text)[0]


# ---- the whole sentence -------------------------------------------------------------------------

def read(text: str, today: date) -> Moment:
    """Everything a sentence says about when (see the module docstring); raises DateOutOfRange."""
    text = normalize(text)
    day, span = _find_date(text, today)
    rest = text if span is None else text[:span[0]] + " " + text[span[1]:]
    at, part = _read_clock(rest)
    vague = any(word in text for word in VAGUE_WORDS)
    return Moment(day, at, part, vague)


def read_clock(text: str) -> tuple[time | None, str | None]:
    """The clock time and the part of the day a text names, dates aside (a full date is no time)."""
    text = normalize(text)
    for pattern in (_FULL_DATE, _MONTH_DAY_NUM):  # 2026-12-08 / 12-08 hold no clock time
        if m := pattern.search(text):
            text = text[:m.start()] + " " + text[m.end():]
            break
    return _read_clock(text)


def _read_clock(text: str) -> tuple[time | None, str | None]:
    at, part = None, None
    for m in _CLOCK.finditer(text):
        if m["h1"] is None and m["h2"] is None:
            continue
        at = _clock_of(m)
        part = PERIODS.get(m["period"] or "")
        break
    if part is None and (p := _PART.search(text)):
        part = PERIODS[p[0]]
    if at is None and part == "中午":
        at = time(12, 0)
    return at, part


def office_time(at: time, part: str | None) -> time:
    """两点 said to an office open by day is 14:00: an hour 1-7 with no part of the day named is
    taken as the afternoon (nobody books the police post at 2 a.m.)."""
    if part is None and 1 <= at.hour <= 7:
        return at.replace(hour=at.hour + 12)
    return at
