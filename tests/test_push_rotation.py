"""What a push sends, where and on which days, without a bot: the pure decisions of handlers/pushes.

Rotation (which notice a group gets next), targets (which groups a target names), the push
calendar (which days a schedule stays silent, when it sends next) and a push-now's outcome.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from bot.clock import SHANGHAI
from bot.directory import Directory, Group
from bot.workcal import WorkCalendar
from handlers.pushes.notices import Notice, fraud_type, pick_notice, rotation_library
from handlers.pushes.outcome import PushOutcome
from handlers.pushes.push_calendar import PushCalendar
from handlers.pushes.targets import resolve_target, split_trailing_target, target_groups
from handlers.pushes.texts import Refusal
from handlers.pushes.timeexpr import parse_when

MONDAY = dt.date(2026, 12, 7)


def notice(notice_id: str, type_: str = "冒充公检法", **kw) -> Notice:
    return Notice(notice_id, type_, kw.pop("title", notice_id), "请拨打96110。", **kw)


FILES = [notice("gongjianfa-a"), notice("gongjianfa-b"), notice("gongjianfa-c"), notice("shuadan-a", "刷单返利")]
ADDED = [notice("custom-1", title="")]


def weekly_pushes(library: list[Notice], weeks: int, window: int, notice_type: str | None = None) -> list[str]:
    """What one group gets over `weeks` weekly pushes, remembering the last `window` sends."""
    sent: list[str] = []
    rng = random.Random(7)
    for week in range(weeks):
        recent = list(reversed(sent))[:window]  # most recent first, as the push log is read
        picked = pick_notice(library, recent, MONDAY + dt.timedelta(weeks=week), notice_type, rng=rng)
        sent.append(picked.id)
    return sent


# ---------------------------------------------------------------- rotation


def test_the_rotation_is_the_files_less_the_stopped_ones_then_the_added_ones():
    library = rotation_library(FILES, {"gongjianfa-b"}, ADDED)
    assert [n.id for n in library] == ["gongjianfa-a", "gongjianfa-c", "shuadan-a", "custom-1"]


def test_an_added_notice_takes_its_turn_and_a_stopped_one_never_comes():
    library = rotation_library(FILES, {"gongjianfa-b"}, ADDED)
    sent = weekly_pushes(library, weeks=9, window=8, notice_type="冒充公检法")
    assert "gongjianfa-b" not in sent
    assert set(sent[:3]) == {"gongjianfa-a", "gongjianfa-c", "custom-1"}  # each once before any repeats
    assert sent[3:6] == sent[:3] and sent[6:9] == sent[:3]  # then the one sent longest ago, in turn


def test_without_a_type_every_notice_comes_once_before_any_comes_again():
    library = rotation_library(FILES, set(), ADDED)
    sent = weekly_pushes(library, weeks=10, window=8)
    assert sorted(sent[:5]) == sorted(n.id for n in library)
    assert sent[5:10] == sent[:5]


def test_a_type_with_every_notice_stopped_has_nothing_to_push():
    library = rotation_library(FILES, {"shuadan-a"}, ADDED)
    assert pick_notice(library, [], MONDAY, "刷单返利") is None
    assert pick_notice(library, [], MONDAY, "冒充公检法") is not None


@pytest.mark.parametrize("word, expected", [
    ("冒充公检法", "冒充公检法"), ("公检法", "冒充公检法"), ("刷单", "刷单返利"), ("征信", "虚假征信"),
    ("骗", None), ("中奖", None), ("新增", None), ("列表", None),
])
def test_a_type_is_named_by_itself_or_two_characters_of_it(word, expected):
    assert fraud_type(word) == expected


# ---------------------------------------------------------------- targets


@pytest.fixture
def directory() -> Directory:
    d = Directory("test")
    for group in (Group("r2", "居民2群", "resident"), Group("r1", "居民1群", "resident"),
                  Group("w", "警务工作群", "work"), Group("x", "闲聊群", None)):
        d.groups[group.id] = group
    return d


def names(groups: list[Group] | None) -> list[str] | None:
    return None if groups is None else [g.name for g in groups]


@pytest.mark.parametrize("target, expected", [
    ("居民群", ["居民1群", "居民2群"]),
    ("resident", ["居民1群", "居民2群"]),
    ("全部", ["居民1群", "居民2群", "警务工作群"]),  # the uncategorised group gets no pushes
    ("警务工作群", ["警务工作群"]),
    ("闲聊群", []),
    ("学校群", []),
    ("隔壁小区群", None),
])
def test_a_target_names_a_group_a_category_or_all_categorised_groups(directory, target, expected):
    assert names(resolve_target(directory, target)) == expected


@pytest.mark.parametrize("target, key", [("隔壁小区群", "bad_target"), ("闲聊群", "no_groups")])
def test_a_target_that_reaches_no_group_is_refused_with_a_reason(directory, target, key):
    with pytest.raises(Refusal) as refused:
        target_groups(directory, target)
    assert refused.value.key == key and f"“{target}”" in refused.value.text


@pytest.mark.parametrize("rest, expected", [
    ("今天下午停水 居民1群", ("今天下午停水", "居民1群")),
    ("今天下午 停水", ("今天下午 停水", "resident")),  # "停水" is no target: all of it is the text
    ("今天下午停水", ("今天下午停水", "resident")),
    ("居民1群", ("居民1群", "resident")),  # a target alone is the text, to the resident groups
])
def test_an_announcement_may_end_with_its_target(directory, rest, expected):
    assert split_trailing_target(directory, rest) == expected


# ---------------------------------------------------------------- the push calendar


CALENDAR = PushCalendar(WorkCalendar().is_workday, WorkCalendar().is_public_holiday)


@pytest.mark.parametrize("day, holiday", [
    (dt.date(2026, 10, 1), True),  # 国庆
    (dt.date(2026, 10, 3), True),  # a Saturday inside the break
    (dt.date(2026, 10, 10), False),  # the make-up Saturday is a working day
    (dt.date(2026, 12, 5), False),  # a plain Saturday is no holiday
    (dt.date(2026, 12, 7), False),
])
def test_a_public_holiday_is_a_statutory_day_off_not_a_weekend(day, holiday):
    assert CALENDAR.is_public_holiday(day) is holiday


def test_a_year_the_package_does_not_know_has_its_statutory_days_and_config_days(calendar_knows):
    calendar_knows(2026)
    new_year = dt.date(2027, 1, 1)  # a Friday
    cal = WorkCalendar(extra_holidays=[dt.date(2027, 1, 2)])
    known = PushCalendar(cal.is_workday, cal.is_public_holiday)
    assert known.is_public_holiday(new_year) and known.is_public_holiday(dt.date(2027, 1, 2))
    assert not known.is_public_holiday(dt.date(2027, 1, 9))  # a Saturday


@pytest.mark.parametrize("day, workdays_only, skip_holidays, silent", [
    (dt.date(2026, 12, 5), False, True, False),  # 节假日不发 still sends on a plain Saturday
    (dt.date(2026, 12, 5), True, False, True),  # 工作日 does not
    (dt.date(2026, 10, 1), False, True, True),
    (dt.date(2026, 10, 1), False, False, False),
    (dt.date(2026, 10, 10), True, True, False),  # a make-up Saturday is a working day
])
def test_a_schedule_stays_silent_on_the_days_it_was_told_to(day, workdays_only, skip_holidays, silent):
    assert CALENDAR.silent_on(day, workdays_only=workdays_only, skip_holidays=skip_holidays) is silent


def when(text: str, now: dt.datetime):
    return parse_when(text, now, SHANGHAI)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize("expr, start, skip_holidays, expected", [
    ("每周五 16:00", at(2026, 9, 28, 8), True, at(2026, 10, 9, 16)),  # Friday 10-02 is 国庆
    ("每周五 16:00", at(2026, 9, 28, 8), False, at(2026, 10, 2, 16)),
    ("工作日 08:30", at(2026, 9, 30, 12), False, at(2026, 10, 8, 8, 30)),
    ("工作日 08:30", at(2026, 10, 9, 12), False, at(2026, 10, 10, 8, 30)),  # the make-up Saturday
    ("每天 09:00", at(2026, 12, 7, 9, 0, 1), True, at(2026, 12, 8, 9)),
])
def test_the_next_send_passes_over_silent_days(expr, start, skip_holidays, expected):
    assert CALENDAR.next_send(when(expr, start), SHANGHAI, start, skip_holidays=skip_holidays) == expected


def test_a_schedule_with_no_day_to_send_on_never_sends():
    no_work = PushCalendar(lambda day: False)
    start = at(2026, 12, 7, 8)
    assert no_work.next_send(when("工作日 08:30", start), SHANGHAI, start, skip_holidays=False) is None
    national_day = when("2026-10-01 09:00", at(2026, 9, 28, 8))
    assert CALENDAR.next_send(national_day, SHANGHAI, at(2026, 9, 28, 8), skip_holidays=True) is None
    assert CALENDAR.next_send(national_day, SHANGHAI, at(2026, 9, 28, 8), skip_holidays=False) == at(2026, 10, 1, 9)


# ---------------------------------------------------------------- how a push now went


PREFIX = "push:now:m1:"
GROUP_NAMES = {"r1": "居民1群", "r2": "居民2群", "r3": "3号楼群"}


def outcome(*rows: tuple[str, str]) -> PushOutcome:
    return PushOutcome.of(["r1", "r2", "r3"], PREFIX, [(PREFIX + key, state) for key, state in rows])


def test_every_group_reached_is_one_line():
    done = outcome(("r1", "sent"), ("r2", "sent"), ("r3", "sent"))
    assert not done.waiting
    assert done.summary(GROUP_NAMES.get) == "推送完成：已推送 3/3 个群。"


def test_a_long_text_counts_by_its_worst_piece_and_a_group_without_a_row_failed():
    done = outcome(("r1", "sent"), ("r2", "sent"), ("r2#2", "failed"))
    assert done.sent == ["r1"] and done.failed == ["r2", "r3"]
    assert done.summary(GROUP_NAMES.get) == ("推送完成：已推送 1/3 个群。没有发出去的群：居民2群、3号楼群。"
                                             "可以稍后再推送一次。")


def test_a_message_on_its_way_at_a_restart_is_named_as_uncertain():
    done = outcome(("r1", "sent"), ("r2", "uncertain"), ("r3", "sent"))
    assert done.summary(GROUP_NAMES.get) == ("推送完成：已推送 2/3 个群。"
                                             "另外 居民2群 因为机器人重启，不确定是否收到，请到群里看一下。")


@pytest.mark.parametrize("state", ["pending", "sending"])
def test_the_summary_waits_while_a_message_is_queued_or_on_its_way(state):
    assert outcome(("r1", "sent"), ("r2", state), ("r3", "sent")).waiting
    assert outcome(("r1", "sent"), ("r2", "sent"), ("r2#2", state)).waiting
