"""Time expressions for the officer command ``/定时``.

Officers type schedules the way they would say them::

    每天 08:30          每周一 09:00        每周一三五 9点半     每周一至周五 8点
    工作日 08:00        每月1号 10:00       每月最后一天 10:00
    2026-12-01 18:00    12-01 18:00         明天 下午3点         ０９：００ (full width)

``parse_when`` turns the whole text into a :class:`When`; ``split_when`` reads a
time expression off the front of a longer command and returns the rest
(content type, target group), so the command handler does not have to guess
how many tokens the time took.

Every error is a :class:`TimeExprError` whose message is polite Chinese that can
be sent back to the officer as is, with a working example.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot import timewords

SHANGHAI = ZoneInfo("Asia/Shanghai")

# The integrator may change the command syntax; keep every example in one place.
EXAMPLE_COMMAND = "例如：/定时 每周一 09:00 反诈 居民群"
ONCE_EXAMPLE_COMMAND = "例如：/定时 明天 09:00 反诈 居民群"
FORMS_HELP = "每天 08:30、每周一 09:00、工作日 08:00、每月1号 10:00、2026-12-01 18:00"

_WEEKDAY_CRON = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ZH = "一二三四五六日"


class TimeExprError(ValueError):
    """A time expression the bot could not use; ``str(err)`` is for the officer."""


@dataclass(frozen=True)
class When:
    """A parsed schedule.

    For ``kind == 'cron'`` the fields map one-to-one onto APScheduler's
    ``CronTrigger`` (``day_of_week`` like ``'mon,wed,fri'``, ``day`` 1-31 or
    ``'last'``).  ``workdays_only`` schedules fire *every day* and the caller must
    skip days that are not Chinese workdays at fire time (see
    :meth:`should_run_on`): a plain mon-fri cron would be wrong on 调休 weekends
    and during public holidays.
    """

    kind: Literal["cron", "once"]
    hour: int
    minute: int
    day_of_week: str | None = None
    day: int | Literal["last"] | None = None
    run_date: dt.datetime | None = None
    workdays_only: bool = False

    def cron_fields(self) -> dict[str, object]:
        """Keyword arguments for ``CronTrigger`` (unset fields left out)."""
        if self.kind != "cron":
            raise ValueError("a one-off time has no cron fields")
        fields = {"day_of_week": self.day_of_week, "day": self.day,
                  "hour": self.hour, "minute": self.minute}
        return {k: v for k, v in fields.items() if v is not None}

    def trigger(self, tz: str | dt.tzinfo = SHANGHAI) -> CronTrigger | DateTrigger:
        tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        if self.kind == "once":
            return DateTrigger(run_date=self.run_date, timezone=tz)
        return CronTrigger(timezone=tz, **self.cron_fields())

    def should_run_on(self, day: dt.date, is_workday: Callable[[dt.date], bool]) -> bool:
        """Fire-time check; pass ``WorkCalendar.is_workday``."""
        return not self.workdays_only or is_workday(day)

    def describe(self) -> str:
        """Chinese summary for confirmations and /定时 listings.

        The output parses back to an equal ``When`` so it can also be stored.
        """
        clock = f"{self.hour:02d}:{self.minute:02d}"
        if self.kind == "once":
            return f"{self.run_date:%Y-%m-%d} {clock}"
        if self.workdays_only:
            return f"工作日 {clock}"
        if self.day == "last":
            return f"每月最后一天 {clock}"
        if self.day is not None:
            return f"每月{self.day}号 {clock}"
        if self.day_of_week is not None:
            return f"{_describe_weekdays(self.day_of_week)} {clock}"
        return f"每天 {clock}"


# ---------------------------------------------------------------- public API


def parse_when(expr: str | Sequence[str], now: dt.datetime, tz: dt.tzinfo = SHANGHAI) -> When:
    """Parse a complete time expression; anything left over is an error."""
    when, rest = split_when(expr, now, tz)
    if rest:
        raise TimeExprError(f"抱歉，时间后面的“{rest}”没看懂。可以这样写：{FORMS_HELP}。{EXAMPLE_COMMAND}")
    return when


def split_when(expr: str | Sequence[str], now: dt.datetime,
               tz: dt.tzinfo = SHANGHAI) -> tuple[When, str]:
    """Read a time expression off the front of ``expr``; return it and the rest."""
    original = expr if isinstance(expr, str) else " ".join(expr)
    text = _normalize(original)
    if not text:
        raise TimeExprError(f"请写上什么时候发送，可以这样写：{FORMS_HELP}。{EXAMPLE_COMMAND}")
    now = now.astimezone(tz) if now.tzinfo else now.replace(tzinfo=tz)
    # Date and clock are matched as one regex so backtracking settles ambiguous
    # runs of numerals: "每周五六点" is Friday 06:00, not Friday+Saturday and no hour.
    for _, with_time, build in _FORMS:
        match = with_time.match(text)
        if match:
            hour, minute = _clock(match)
            return build(match, hour, minute, now), text[match.end():].strip()
    raise _diagnose(text)


# ---------------------------------------------------------------- lexing
# Numbers, clock times and parts of the day are bot.timewords's, so a booking and a schedule read
# "晚上8点" alike (20:00); this module adds the schedule forms (每周一, 工作日, 每月1号).

_NUM = timewords.NUM


def _normalize(text: str) -> str:
    # NFKC folds full-width digits, colon, hyphen and space (０９：００) to ASCII.
    text = timewords.normalize(text)
    # "周一至周五" / "星期一到星期五" -> "周一至五", so the weekday set is one run.
    return re.sub(r"(至|到|~|-)\s*(?:周|星期|礼拜)", "至", text)


def _number(token: str) -> int:
    """Arabic or simple Chinese numerals up to 99 (九, 十五, 二十一, 〇九)."""
    value = timewords.number(token)
    if value is None:
        raise TimeExprError(f"抱歉，“{token}”不是一个能看懂的数字。{EXAMPLE_COMMAND}")
    return value


_TIME_PATTERN = timewords.TIME_PATTERN + r"(?=\s|$)"
_TIME_RE = re.compile(_TIME_PATTERN)


def _clock(m: re.Match[str]) -> tuple[int, int]:
    hour = _number(m.group("h1") or m.group("h2"))
    if m.group("half"):
        minute = 30
    elif m.group("quarter"):
        minute = 15 if m.group("quarter") == "一刻" else 45
    else:
        minute = _number(m.group("m1") or m.group("m2") or "0")
    hour = timewords.apply_period(m.group("period"), hour)
    if not 0 <= hour <= 23 or not 0 <= minute <= 59:
        raise TimeExprError(
            f"抱歉，“{m.group(0).strip()}”里的时间不对，小时是 0-23，分钟是 0-59。{EXAMPLE_COMMAND}")
    return hour, minute


# ---------------------------------------------------------------- date forms

Builder = Callable[[re.Match[str], int, int, dt.datetime], When]


def _daily(m: re.Match[str], hour: int, minute: int, now: dt.datetime) -> When:
    return When("cron", hour, minute)


def _workdays(m: re.Match[str], hour: int, minute: int, now: dt.datetime) -> When:
    # Every day at the cron level; the calendar decides at fire time (调休 Saturdays).
    return When("cron", hour, minute, workdays_only=True)


def _month_end(m: re.Match[str], hour: int, minute: int, now: dt.datetime) -> When:
    return When("cron", hour, minute, day="last")


def _monthly(m: re.Match[str], hour: int, minute: int, now: dt.datetime) -> When:
    day = _number(m.group("dom"))
    if not 1 <= day <= 31:
        raise TimeExprError("抱歉，每月只有 1 到 31 号。例如：/定时 每月1号 10:00 反诈 居民群")
    if day > 28:
        # APScheduler silently skips months without that day; month end is what people mean.
        raise TimeExprError(
            f"抱歉，{day}号不是每个月都有，会漏发。想在月底发送，例如：/定时 每月最后一天 10:00 反诈 居民群")
    return When("cron", hour, minute, day=day)


def _weekly(m: re.Match[str], hour: int, minute: int, now: dt.datetime) -> When:
    days = _weekday_set(m.group("days"))
    if len(days) == 7:
        return When("cron", hour, minute)
    return When("cron", hour, minute, day_of_week=",".join(_WEEKDAY_CRON[d] for d in days))


def _full_date(m: re.Match[str], hour: int, minute: int, now: dt.datetime) -> When:
    day = _make_date(int(m.group("y")), _number(m.group("mo")), _number(m.group("d")), now.date())
    return _once(day, hour, minute, now)


def _month_day(m: re.Match[str], hour: int, minute: int, now: dt.datetime) -> When:
    month, dom = _number(m.group("mo")), _number(m.group("d"))
    # Without a year, a date already gone this year means next year ("01-05" typed in
    # December); today with a past clock time stays an error rather than jumping a year.
    day = timewords.resolve_month_day(month, dom, now.date(), back_days=0) if 1 <= month <= 12 else None
    if day is None:
        raise _no_such_day(month, dom)
    return _once(day, hour, minute, now)


_RELATIVE_DAYS = timewords.RELATIVE_DAYS


def _relative(m: re.Match[str], hour: int, minute: int, now: dt.datetime) -> When:
    day = now.date() + dt.timedelta(days=_RELATIVE_DAYS[m.group("rel")])
    return _once(day, hour, minute, now)


def _once(day: dt.date, hour: int, minute: int, now: dt.datetime) -> When:
    run = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=now.tzinfo)
    if run <= now:
        raise TimeExprError(
            f"抱歉，{run:%Y-%m-%d %H:%M} 已经过去了，请选一个以后的时间。{ONCE_EXAMPLE_COMMAND}")
    return When("once", hour, minute, run_date=run)


def _make_date(year: int, month: int, day: int, today: dt.date) -> dt.date:
    try:
        day_ = dt.date(year, month, day)
        # A stored expression is read back against a past "now" (schedules._EPOCH): only a new
        # one, read against the real today, is held to the years anyone can mean.
        return timewords.check_year(day_, today) if today.year > timewords.MIN_YEAR else day_
    except timewords.DateOutOfRange as error:
        raise TimeExprError(f"抱歉，{error}{ONCE_EXAMPLE_COMMAND}") from None
    except ValueError:
        raise _no_such_day(month, day) from None


def _no_such_day(month: int, day: int) -> TimeExprError:
    return TimeExprError(
        f"抱歉，没有 {month} 月 {day} 日这一天，请检查日期。例如：/定时 2026-12-01 18:00 反诈 居民群")


# No "七" and no Arabic digits: "每周一七点" / "每周一 9点" must leave the hour alone.
_WEEKDAY_CHARS = "一二三四五六日天"


def _weekday_set(spec: str) -> list[int]:
    """'一三五' -> [0,2,4]; '一至五' -> [0..4]; '日' / '天' -> Sunday."""
    chars = [c for c in spec if c not in "、, "]
    days: set[int] = set()
    for i, c in enumerate(chars):
        if c == "至":
            if i == 0 or i == len(chars) - 1:
                raise TimeExprError(f"抱歉，“周{spec}”没看懂。例如：/定时 每周一至周五 09:00 反诈 居民群")
            start, end = _weekday(chars[i - 1]), _weekday(chars[i + 1])
            days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)])
        else:
            days.add(_weekday(c))
    return sorted(days)


def _weekday(c: str) -> int:
    return 6 if c in "日天" else _WEEKDAY_ZH.index(c)


def _describe_weekdays(day_of_week: str) -> str:
    days = [_WEEKDAY_CRON.index(d) for d in day_of_week.split(",")]
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return f"每周{_WEEKDAY_ZH[days[0]]}至周{_WEEKDAY_ZH[days[-1]]}"
    return "每周" + "、".join(_WEEKDAY_ZH[d] for d in days)


# Order matters: the first form that matches the start of the text wins.
_DATE_FORMS: list[tuple[str, Builder]] = [
    (r"(?:每天|每日|天天)", _daily),
    (r"(?:每个?)?工作日(?:每天)?", _workdays),
    (r"每个?月的?(?:最后一天|月底|底)", _month_end),
    (rf"每个?月的?(?P<dom>{_NUM})[号日]", _monthly),
    (rf"(?:每个?)?(?:周|星期|礼拜)(?P<days>[{_WEEKDAY_CHARS}](?:[、,]?[{_WEEKDAY_CHARS}至])*)", _weekly),
    (r"(?P<y>\d{4})\s*[-/.年]\s*(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?", _full_date),
    (r"(?P<mo>\d{1,2})[-/.](?P<d>\d{1,2})", _month_day),
    (rf"(?P<mo>{_NUM})月(?P<d>{_NUM})[日号]", _month_day),
    (r"(?P<rel>大后天|今天|今日|明天|明日|后天)", _relative),
]
# (date alone, date followed by a clock time, builder); the date-alone regex only
# serves error messages.
_FORMS = [(re.compile(date), re.compile(date + _TIME_PATTERN), build) for date, build in _DATE_FORMS]


def _diagnose(text: str) -> TimeExprError:
    """Explain what is missing from a text that did not parse."""
    for date_only, _, _ in _FORMS:
        match = date_only.match(text)
        if match:
            return TimeExprError(
                f"请在“{match.group(0).strip()}”后面写上几点发送，比如 09:00 或 9点半。{EXAMPLE_COMMAND}")
    if _TIME_RE.match(text):
        return TimeExprError(
            f"请说明是哪一天：每天、每周几、工作日、每月几号，还是某一天（如 明天、12-01）。{EXAMPLE_COMMAND}")
    return TimeExprError(f"抱歉，没看懂时间“{text}”。可以这样写：{FORMS_HELP}。{EXAMPLE_COMMAND}")
