"""Reading `/定时 时间 内容 目标 [文字] [节假日不发]` into a schedule, or the one reason it cannot be one.

Pure: the words, the time and the zone, the groups (for the target) and the calendar (for a
one-off day) in; a ScheduleRequest or a Refusal (texts.TEXTS key) out. A time the bot cannot
read is timeexpr's TimeExprError, whose message is the reply.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.directory import Directory
from handlers.pushes.notices import fraud_type
from handlers.pushes.push_calendar import PushCalendar
from handlers.pushes.targets import resolve_target, target_groups
from handlers.pushes.texts import Refusal
from handlers.pushes.timeexpr import When, split_when

KIND_WORDS = {"反诈": "antifraud", "防诈": "antifraud", "防范宣传": "antifraud", "公告": "announcement",
              "社区公告": "announcement", "通知": "announcement", "警务动态": "police_news",
              "警务": "police_news"}
# "节假日不发" and the ways officers say it, as one word right after the time or at the very end.
HOLIDAY_FLAG = re.compile(r"[（(]?(?:(?:法定)?节假日(?:不发|不发送|不推送|停发|除外|跳过|休息)|跳过(?:法定)?节假日)[)）]?[。.]?")


MAX_AHEAD_DAYS = 731  # a one-off push is for the next two years at most


@dataclass(frozen=True)
class ScheduleRequest:
    when: When
    kind: str  # antifraud | announcement | police_news
    target: str  # as typed: a group's name, a category or 全部
    text: str | None  # an announcement's words (None for anti-fraud)
    notice_type: str | None  # an anti-fraud type, or None: every type in turn
    skip_holidays: bool


def read_schedule(rest: str, now: dt.datetime, tz: dt.tzinfo, directory: Directory,
                  days: PushCalendar) -> ScheduleRequest:
    """What follows `/定时`, checked in the order an officer reads the reply."""
    when, parts, skip_holidays = _read_words(rest, now, tz)
    # A guard at the edge until the time words are re-read in one place: a one-off date past
    # what any date arithmetic can take (9999-12-31) once made every later start fail.
    if when.kind == "once" and (when.run_date.date() - now.date()).days > MAX_AHEAD_DAYS:
        raise Refusal("too_far", day=f"{when.run_date:%Y-%m-%d}")
    if len(parts) < 2:
        raise Refusal("usage")
    kind = _kind(parts[0])
    target = _target(directory, parts[1])
    notice_type, text = _content(kind, parts[2].strip() if len(parts) > 2 else None)
    if when.kind == "once" and skip_holidays and days.is_public_holiday(when.run_date.date()):
        raise Refusal("holiday_once", day=f"{when.run_date:%Y-%m-%d}")
    return ScheduleRequest(when, kind, target, text, notice_type, skip_holidays)


def _kind(word: str) -> str:
    kind = KIND_WORDS.get(word)
    if kind is None:
        raise Refusal("holiday_usage") if sounds_like_holidays(word) else Refusal("bad_kind", word=word)
    return kind


def _target(directory: Directory, target: str) -> str:
    if resolve_target(directory, target) is None and sounds_like_holidays(target):
        raise Refusal("holiday_usage")  # "反诈 节假日不发 居民群": the flag in the target's place
    target_groups(directory, target)
    return target


def _content(kind: str, text: str | None) -> tuple[str | None, str | None]:
    """(anti-fraud type, announcement text): anti-fraud takes a type where others take their words."""
    if kind == "antifraud" and text:
        notice_type = fraud_type(text)
        if notice_type is None:
            raise Refusal("holiday_usage") if sounds_like_holidays(text) else Refusal("bad_notice_type", word=text)
        return notice_type, None
    if kind != "antifraud" and not text:
        raise Refusal("need_text")
    return None, text


def sounds_like_holidays(word: str) -> bool:
    return "假日" in word or "节日" in word


def _read_words(rest: str, now: dt.datetime, tz: dt.tzinfo) -> tuple[When, list[str], bool]:
    """The time, then kind, target and text as typed, and whether 节假日不发 was said (last, or after the time)."""
    command, at_end = _without_last_holiday_flag(rest)
    when, after = split_when(command, now, tz)
    command, after, after_time = _without_holiday_flag_after_time(command, after)
    return when, _verbatim_tail(command, after), at_end or after_time


def _without_last_holiday_flag(command: str) -> tuple[str, bool]:
    """"每周五 16:00 反诈 居民群 节假日不发" -> ("每周五 16:00 反诈 居民群", True)."""
    head, _, last = command.rstrip().rpartition(" ")
    if head.strip() and HOLIDAY_FLAG.fullmatch(last.strip()):
        return head.rstrip(), True
    return command, False


def _without_holiday_flag_after_time(command: str, rest: str) -> tuple[str, str, bool]:
    """"每周五 16:00 节假日不发 反诈 居民群": take the flag out of the command and of the rest after the time."""
    first, _, after = rest.partition(" ")
    if not HOLIDAY_FLAG.fullmatch(first):
        return command, rest, False
    consumed = len(command.split()) - len(rest.split())
    words = command.split(maxsplit=consumed + 1)
    return " ".join(words[:consumed] + words[consumed + 1:]), after.strip(), True


def _verbatim_tail(original: str, normalized_rest: str) -> list[str]:
    """Kind, target and text as the officer typed them (split_when hands back normalised text,
    which would turn a full-width "，" in an announcement into ","))."""
    consumed = len(original.split()) - len(normalized_rest.split())
    if consumed <= 0:
        return normalized_rest.split(maxsplit=2)
    return original.split(maxsplit=consumed + 2)[consumed:]
