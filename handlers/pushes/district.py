"""A district's schedules (the district file's `schedules:`), as each bot's own push schedules.

"每周一 09:00 反诈 全区居民群": every bot of the district keeps a row of it (source "district") with
its own job ("push:district-<key>") and sends to its own groups of that category, through its own
paced outbox, with the dedup key of schedule, due time and group: once per group, however often
the job fires or the bot restarts. The key comes from the schedule's words, so the same schedule
keeps its job (and a changed one gets a new job) across restarts. Community content adds to it:
the bot's own notices rotate into the district's 反诈 pushes, its own schedules run beside them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.config import CATEGORIES
from bot.district import DistrictSchedule
from handlers.pushes.notices import fraud_type
from handlers.pushes.schedule_words import KIND_WORDS
from handlers.pushes.targets import ALL, CATEGORY_BY_NAME
from handlers.pushes.timeexpr import When

SOURCE = "district"
DISTRICT_WORD = "全区"


class DistrictScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class DistrictPush:
    id: str
    kind: str  # antifraud | announcement | police_news
    notice_type: str | None
    target: str  # this bot's target: a category word or 全部
    text: str | None


def schedule_id(schedule: DistrictSchedule) -> str:
    words = "|".join([schedule.at.strip(), schedule.kind.strip(), schedule.target.strip(), schedule.text or ""])
    return f"{SOURCE}-{hashlib.sha256(words.encode()).hexdigest()[:10]}"


def read(schedule: DistrictSchedule) -> DistrictPush:
    """What the schedule asks of this bot; DistrictScheduleError naming the word it cannot read."""
    kind_word, _, type_word = schedule.kind.strip().partition(" ")
    kind = KIND_WORDS.get(kind_word)
    if kind is None:
        raise DistrictScheduleError(f"kind: '{kind_word}' is not 反诈, 公告 or 警务动态")
    notice_type = None
    if kind == "antifraud" and type_word.strip():
        notice_type = fraud_type(type_word.strip())
        if notice_type is None:
            raise DistrictScheduleError(f"kind: '{type_word.strip()}' is not an anti-fraud type")
    if kind != "antifraud" and not schedule.text:
        raise DistrictScheduleError(f"text: a {kind_word} needs its words")
    target = schedule.target.strip()
    target = target[len(DISTRICT_WORD):].strip() if target.startswith(DISTRICT_WORD) else target
    if target not in ALL and target not in CATEGORIES and target not in CATEGORY_BY_NAME:
        raise DistrictScheduleError(f"target: '{schedule.target}' names no group category (全区居民群, 全区全部 ...)")
    return DistrictPush(schedule_id(schedule), kind, notice_type, target,
                        schedule.text if kind != "antifraud" else None)


def fields(push: DistrictPush, when: When) -> dict:
    return {"when": when.describe(), "kind": push.kind, "target": push.target, "text": push.text,
            "notice_type": push.notice_type, "skip_holidays": False, "grace_minutes": None}
