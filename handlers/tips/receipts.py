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
YES_CONFIDENTIAL = ("保密", "要保密", "需要保密", "需要", "要", "是", "1", "匿名", "不留名", "不要留名", "别说是我",
                    "替我保密", "帮我保密", "请保密", "保密吧", "对", "是的", "嗯", "好", "要的")
NO_CONFIDENTIAL = ("不用", "不用保密", "不需要", "不保密", "公开", "否", "2", "不用了", "不要", "无所谓", "留名",
                   "可以留名", "实名", "没关系")
CONFIRM_WORDS = ("确认", "提交", "确定", "是", "对", "好", "好的", "1", "嗯", "行", "没问题", "ok", "可以", "是的", "对的",
                 "确认提交", "提交吧", "交吧", "发吧", "中", "要得", "就这样", "没错")
SKIP_WORDS = ("跳过", "不知道", "不清楚", "没有", "无")
RECEIPT_DIGITS = 16
SUMMARY_CHARS = 40


def new_receipt() -> str:
    """16 random digits: the only key to a tip's answers, so it comes from `secrets`."""
    return "".join(str(secrets.randbelow(10)) for _ in range(RECEIPT_DIGITS))


def show_receipt(receipt: str) -> str:
    """In groups of four, so it can be copied down by hand."""
    return " ".join(receipt[i:i + 4] for i in range(0, len(receipt), 4))


def digits_in(typed: str) -> str:
    return "".join(c for c in typed if c.isascii() and c.isdigit())


def receipt_in(typed: str) -> str | None:
    """The receipt a resident typed after 查询 (spaces as they like), or None: another feature's code."""
    digits = "".join(typed.split()).replace("-", "")
    return digits if len(digits) == RECEIPT_DIGITS and digits.isdigit() else None


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
    """确认。 / 嗯嗯 / OK！ -> 确认 / 嗯 / ok: punctuation, spaces and a doubled word gone."""
    if any(symbol in text for symbol in ("👌", "👍", "✅")):
        return "ok"
    if text.strip().endswith(("?", "？")):
        return "?"  # 嗯？ asks; it does not agree
    word = re.sub(r"[\s\W_]+", "", text).lower()
    return re.sub(r"^(.+?)\1+$", r"\1", word)


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
