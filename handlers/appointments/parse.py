"""How residents and officers write a day, a time, a choice, a name and a mobile number.

Days and clock times are bot.timewords's (the one reading every feature shares); this module
adds what only a booking needs: numbered choices, yes-words, names and mobiles. Pure: text (and
today) in, a value or None out.
"""

from __future__ import annotations

import re
from datetime import date, time

from bot import timewords
from bot.masking import is_mobile

YES_WORDS = frozenset({"1", "确认", "确定", "是", "是的", "好", "好的", "对", "对的", "对呀", "可以", "提交", "没问题",
                       "ok", "okay", "嗯", "嗯呢", "行", "行的", "中", "要得", "没错", "就这样", "就这个", "确认预约",
                       "确认提交", "好了", "好嘞", "妥", "可以的", "同意", "yes", "y"})
YES_SYMBOLS = ("👌", "👍", "✅", "✔", "🙆")
MORE_WORDS = frozenset({"更多", "还有吗", "还有呢", "还有别的吗", "其他", "其它", "后面", "下一页", "再看看", "别的"})

_NUM = re.compile(r"^\s*(?:第)?\s*(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:个|号|项)?\s*[。.!！]?\s*$")
_NAME_LEAD = re.compile(r"^(我叫|我是|姓名[:：]?|名字[:：]?|叫)")
# Words that are a request, not a name ("举报" typed at the name step is not someone called 举报).
_NOT_A_NAME = re.compile(r"预约|举报|线索|帮助|菜单|查询|建议|取消|什么|怎么|咋|不知道|为啥|为什么|吗|呢|\?|？")


def parse_day(text: str, today: date) -> date | None:
    """明天, 12月8日, 2026-12-08, 周三, 下周二, 8号: the day meant, seen from `today`
    (a year far off: None; the dialog says why through timewords.read)."""
    try:
        return timewords.parse_date(text, today)
    except timewords.DateOutOfRange:
        return None


def day_or_reason(text: str, today: date) -> tuple[date | None, str | None]:
    """For officers: the day, or why not in one sentence when the year is far off (9999-01-01)."""
    try:
        return timewords.parse_date(text, today), None
    except timewords.DateOutOfRange as error:
        return None, str(error)


def day_part(text: str) -> str | None:
    part = timewords.read_clock(text)[1]
    return {"中午": "下午", "晚上": "下午"}.get(part, part) if part in ("上午", "下午", "中午", "晚上") else None


def parse_clock(text: str) -> time | None:
    """9:30, 9点半, 下午2点, 两点 (14:00 at an office) -> a time of day; a bare number is a choice."""
    at, part = timewords.read_clock(text)
    return timewords.office_time(at, part) if at else None


def pick_number(text: str, n: int) -> int | None:
    """"2", "第2个", "二" out of n numbered choices -> index 1; anything else None."""
    m = _NUM.match(text)
    value = timewords.number(m[1]) if m else None
    if value is not None and 1 <= value <= n:
        return value - 1
    return None


def says_yes(text: str) -> bool:
    """确认。 / 嗯嗯 / 好的好的 / OK / 👌: yes."""
    if any(symbol in text for symbol in YES_SYMBOLS):
        return True
    if text.strip().endswith(("?", "？")):
        return False  # 嗯？ asks; it does not agree
    word = re.sub(r"[\s\W_]+", "", text).lower()
    word = re.sub(r"(.+?)\1+$", r"\1", word)  # 好的好的 -> 好的, 嗯嗯 -> 嗯
    word = re.sub(r"(吧|啊|呀|哈|了|呢)+$", "", word) or word
    return word in YES_WORDS


def wants_more(text: str) -> bool:
    return re.sub(r"[\s\W_]+", "", text) in MORE_WORDS


def read_name(text: str) -> str | None:
    """我叫王芳 -> 王芳; 2 to 20 characters and no digits, else None."""
    name = _NAME_LEAD.sub("", text.strip()).strip(" 。.!！")
    if not 2 <= len(name) <= 20 or re.search(r"\d", name) or _NOT_A_NAME.search(name):
        return None
    return name


def read_mobile(text: str) -> str | None:
    """138 1234 5678, +86 138-1234-5678, １３８… -> 13812345678; not a mainland mobile: None."""
    phone = re.sub(r"[\s\-—+]", "", timewords.normalize(text))
    phone = re.sub(r"^(?:手机号?|电话|号码|手机号码)[:：]?", "", phone)
    phone = phone[2:] if phone.startswith("86") and len(phone) == 13 else phone
    return phone if is_mobile(phone) else None
