"""How residents and officers write a day, a time, a choice, a name and a mobile number.

Pure: text (and today) in, a value or None out.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from bot.masking import is_mobile

RELATIVE = {"今天": 0, "明天": 1, "后天": 2, "大后天": 3}
YES_WORDS = frozenset({"1", "确认", "确定", "是", "是的", "好", "好的", "对", "可以", "提交", "没问题", "ok", "OK"})

_NUM = re.compile(r"^\s*(\d{1,2})\s*$")
_MONTH_DAY = re.compile(r"(?:(\d{4})[年\-/.])?(\d{1,2})[月\-/.](\d{1,2})[日号]?")
_DAY_ONLY = re.compile(r"^(\d{1,2})[日号]")
_WEEKDAY = re.compile(r"(下)?(?:周|星期|礼拜)([一二三四五六日天])")
_CLOCK = re.compile(r"(上午|下午|早上|中午)?\s*(\d{1,2})(?:[:：点](\d{1,2}|半)?)?")
_NAME_LEAD = re.compile(r"^(我叫|我是|姓名[:：]?)")


def parse_day(text: str, today: date) -> date | None:
    """明天, 12月8日, 2026-12-08, 周三, 下周二, 8号: the day meant, seen from `today`."""
    text = text.strip()
    for word, n in sorted(RELATIVE.items(), key=lambda kv: -len(kv[0])):
        if text.startswith(word):
            return today + timedelta(days=n)
    if m := _MONTH_DAY.search(text):
        return _month_day(m, today)
    if m := _WEEKDAY.search(text):
        target = "一二三四五六日天".index(m[2]) if m[2] != "天" else 6
        if m[1]:  # 下周二: Tuesday of next calendar week
            return today + timedelta(days=7 - today.weekday() + target)
        return today + timedelta(days=(target - today.weekday()) % 7 or 7)
    if m := _DAY_ONLY.match(text):
        try:
            day = today.replace(day=int(m[1]))
        except ValueError:
            return None
        return day if day >= today else None
    return None


def _month_day(m: re.Match, today: date) -> date | None:
    """A month and day without a year that lies a month or more behind: next year's (1月4日 in December)."""
    year = int(m[1]) if m[1] else today.year
    try:
        day = date(year, int(m[2]), int(m[3]))
    except ValueError:
        return None
    return day.replace(year=year + 1) if not m[1] and day < today - timedelta(days=31) else day


def day_part(text: str) -> str | None:
    return next((p for p in ("上午", "下午") if p in text), None)


def parse_clock(text: str) -> time | None:
    """9:30, 9点半, 下午2点 -> a time of day; a bare number is a choice, not a time."""
    m = _CLOCK.search(text)
    if not m or not (":" in text or "：" in text or "点" in text):
        return None
    hour = int(m[2])
    minute = 30 if m[3] == "半" else int(m[3] or 0)
    if m[1] == "下午" and hour < 12:
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def pick_number(text: str, n: int) -> int | None:
    """"2" out of n numbered choices -> index 1; anything else None."""
    m = _NUM.match(text)
    if m and 1 <= int(m[1]) <= n:
        return int(m[1]) - 1
    return None


def read_name(text: str) -> str | None:
    """我叫王芳 -> 王芳; 2 to 20 characters and no digits, else None."""
    name = _NAME_LEAD.sub("", text.strip()).strip()
    if not 2 <= len(name) <= 20 or re.search(r"\d", name):
        return None
    return name


def read_mobile(text: str) -> str | None:
    """138 1234 5678, +86 138-1234-5678 -> 13812345678; not a mainland mobile number: None."""
    phone = re.sub(r"[\s\-—+]", "", text)
    phone = phone[2:] if phone.startswith("86") and len(phone) == 13 else phone
    return phone if is_mobile(phone) else None
