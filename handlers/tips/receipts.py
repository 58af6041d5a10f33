"""What a tip is made of, as plain values: its receipt, its masked summary, the category and the
answers a resident types, the daily quota's key and when a tip is overdue. No chat, no database."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta, tzinfo

from bot.masking import mask_text

CATEGORIES = ["诈骗/经济犯罪", "毒品", "食品药品", "治安/盗窃", "其他"]
CATEGORY_WORDS = {  # what residents actually type for each category
    "诈骗/经济犯罪": ("诈骗", "骗", "经济", "传销", "集资", "反诈"),
    "毒品": ("毒", "吸毒", "贩毒"),
    "食品药品": ("食品", "药品", "食药", "假药", "过期"),
    "治安/盗窃": ("治安", "盗窃", "偷", "打架", "赌"),
    "其他": ("其他", "其它", "别的"),
}
YES_CONFIDENTIAL = ("保密", "要保密", "需要保密", "需要", "要", "是", "1")
NO_CONFIDENTIAL = ("不用", "不用保密", "不需要", "不保密", "公开", "否", "2")
CONFIRM_WORDS = ("确认", "提交", "确定", "是", "对", "好", "好的", "1")
SKIP_WORDS = ("跳过", "不知道", "不清楚", "没有", "无")
RECEIPT_DIGITS = 16
SUMMARY_CHARS = 40


def new_receipt() -> str:
    """16 random digits: the only key to a tip's answers, so it comes from `secrets`."""
    return "".join(str(secrets.randbelow(10)) for _ in range(RECEIPT_DIGITS))


def show_receipt(receipt: str) -> str:
    """In groups of four, so it can be copied down by hand."""
    return " ".join(receipt[i:i + 4] for i in range(0, len(receipt), 4))


def receipt_in(typed: str) -> str | None:
    """The receipt a resident typed after 查询 (spaces as they like), or None: another feature's code."""
    digits = "".join(typed.split())
    return digits if len(digits) == RECEIPT_DIGITS else None


_DIGIT_RUN = re.compile(r"\d[\d \t\u3000]*\d")


def receipts_in(text: str) -> list[str]:
    """Every run of digits (spaced as a receipt is shown) that is exactly a receipt's length:
    what someone may have pasted into a group. Longer runs (a bank card) are not receipts."""
    found = ("".join(run.split()) for run in _DIGIT_RUN.findall(text))
    return [digits for digits in found if len(digits) == RECEIPT_DIGITS]


def summarise(text: str) -> str:
    """Mask first, then cut: a cut number could otherwise leave its digits unmasked."""
    masked = mask_text(" ".join(text.split()))
    return masked if len(masked) <= SUMMARY_CHARS else masked[:SUMMARY_CHARS] + "…"


def category_of(text: str) -> str | None:
    """The category a resident chose, by its number, its name or a word of it; None: not understood."""
    text = text.strip()
    if text.isdigit() and 1 <= int(text) <= len(CATEGORIES):
        return CATEGORIES[int(text) - 1]
    for category in CATEGORIES:
        if text == category or any(word in text for word in CATEGORY_WORDS[category]):
            return category
    return None


def category_options() -> str:
    return "\n".join(f"{i}. {c}" for i, c in enumerate(CATEGORIES, 1))


def _answer(text: str) -> str:
    return text.strip().rstrip("。！!")


def wants_confidential(text: str) -> bool | None:
    """True: keep the reporter's identity from officers; False: show it; None: not understood."""
    answer = _answer(text)
    if answer in YES_CONFIDENTIAL:
        return True
    if answer in NO_CONFIDENTIAL:
        return False
    return None


def confirms(text: str) -> bool:
    return _answer(text) in CONFIRM_WORDS


def when_where_of(text: str) -> str | None:
    """What the resident said about when and where; None when they skipped it."""
    text = text.strip()
    return None if text in SKIP_WORDS else text


def quota_key(now: datetime, tz: tzinfo, contact_id: str) -> tuple[date, str]:
    """The reporter's local day, and the text whose keyed hash counts their tips of that day. The
    day is part of it, so the hashes of one reporter's tips on two days do not match."""
    day = now.astimezone(tz).date()
    return day, f"tip-quota:{day.isoformat()}:{contact_id}"


def is_overdue(created_at: datetime, first_reply_at: datetime | None, now: datetime, hours: int) -> bool:
    """No officer has answered `hours` after the tip came in."""
    return first_reply_at is None and created_at <= now - timedelta(hours=hours)


def local_stamp(at: datetime, tz: tzinfo) -> str:
    """12-08 14:30: when a tip came in or was answered, as the community's clock shows it."""
    return f"{at.astimezone(tz):%m-%d %H:%M}"
