"""One table of how people write days and times, read alike by every feature that reads them:
bot.timewords itself, the booking dialog (handlers/appointments/parse), /定时 (timeexpr) and
/统计's date ranges. Today is Monday 2026-12-07, 09:00 in Shanghai."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from bot import timewords
from bot.clock import SHANGHAI
from handlers.appointments.parse import parse_clock, parse_day
from handlers.pushes.timeexpr import TimeExprError, split_when
from handlers.stats.report import parse_period

TODAY = date(2026, 12, 7)  # a Monday
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)
D = lambda m, d, y=2026: date(y, m, d)  # noqa: E731
T = time

# text, the day it names, the clock time it names (None: none)
TABLE = [
    # clock times alone
    ("十点", None, T(10, 0)), ("10点", None, T(10, 0)), ("10点半", None, T(10, 30)), ("九点半", None, T(9, 30)),
    ("9:30", None, T(9, 30)), ("09:30", None, T(9, 30)), ("９：３０", None, T(9, 30)), ("9点15分", None, T(9, 15)),
    ("九点十五", None, T(9, 15)), ("十点整", None, T(10, 0)), ("十点钟", None, T(10, 0)), ("三点一刻", None, T(3, 15)),
    ("下午三点三刻", None, T(15, 45)), ("下午两点", None, T(14, 0)), ("下午2点", None, T(14, 0)),
    ("下午2点半", None, T(14, 30)), ("下午14:00", None, T(14, 0)), ("晚上8点", None, T(20, 0)),
    ("晚上八点半", None, T(20, 30)), ("傍晚6点", None, T(18, 0)), ("早上8点", None, T(8, 0)),
    ("早晨七点", None, T(7, 0)), ("上午十点", None, T(10, 0)), ("上午10:30", None, T(10, 30)),
    ("中午", None, T(12, 0)), ("中午12点", None, T(12, 0)), ("中午一点", None, T(13, 0)),
    ("凌晨3点", None, T(3, 0)), ("十一点", None, T(11, 0)), ("十二点", None, T(12, 0)), ("两点", None, T(2, 0)),
    ("二十点", None, T(20, 0)), ("16:45", None, T(16, 45)),
    # days alone
    ("今天", TODAY, None), ("明天", D(12, 8), None), ("明日", D(12, 8), None), ("明儿", D(12, 8), None),
    ("后天", D(12, 9), None), ("大后天", D(12, 10), None), ("周三", D(12, 9), None), ("星期三", D(12, 9), None),
    ("礼拜三", D(12, 9), None), ("周一", D(12, 14), None), ("周日", D(12, 13), None), ("星期天", D(12, 13), None),
    ("下周三", D(12, 16), None), ("下星期一", D(12, 14), None), ("下个礼拜五", D(12, 18), None),
    ("下下周一", D(12, 21), None), ("这周五", D(12, 11), None), ("本周四", D(12, 10), None),
    ("8号", D(12, 8), None), ("8日", D(12, 8), None), ("十号", D(12, 10), None), ("3号", D(1, 3, 2027), None),
    ("12月8号", D(12, 8), None), ("12月8日", D(12, 8), None), ("十二月八日", D(12, 8), None),
    ("12月 8 号", D(12, 8), None), ("1月4日", D(1, 4, 2027), None), ("12/8", D(12, 8), None),
    ("12-08", D(12, 8), None), ("2026-12-08", D(12, 8), None), ("2026/12/8", D(12, 8), None),
    ("2026.12.08", D(12, 8), None), ("2026年12月8日", D(12, 8), None), ("2027-01-04", D(1, 4, 2027), None),
    ("２０２６－１２－０８", D(12, 8), None),
    # a day and a time in one answer
    ("后天上午十点", D(12, 9), T(10, 0)), ("明天下午两点", D(12, 8), T(14, 0)), ("明天9:30", D(12, 8), T(9, 30)),
    ("周五下午3点", D(12, 11), T(15, 0)), ("下周三上午九点半", D(12, 16), T(9, 30)),
    ("12月8号上午10点", D(12, 8), T(10, 0)), ("2026-12-08 14:30", D(12, 8), T(14, 30)),
    ("8号下午两点半", D(12, 8), T(14, 30)), ("明天中午", D(12, 8), T(12, 0)), ("大后天晚上8点", D(12, 10), T(20, 0)),
    # in a sentence, as people answer
    ("那就后天上午十点吧", D(12, 9), T(10, 0)), ("我想明天去", D(12, 8), None), ("周五下午", D(12, 11), None),
    ("明天上午", D(12, 8), None), ("后天下午有空吗", D(12, 9), None), ("我下周三上午过去", D(12, 16), None),
    ("还是改到8号吧", D(12, 8), None), ("3号楼", None, None), ("随便", None, None), ("火箭发射", None, None),
    ("2月30日", None, None), ("13月5日", None, None), ("25:00", None, None),
]
assert len(TABLE) >= 80


@pytest.mark.parametrize("text, day, at", TABLE, ids=[row[0] for row in TABLE])
def test_timewords_reads_the_table(text, day, at):
    moment = timewords.read(text, TODAY)
    assert (moment.day, moment.time) == (day, at)


@pytest.mark.parametrize("text, day, at", TABLE, ids=[row[0] for row in TABLE])
def test_the_booking_dialog_reads_it_alike(text, day, at):
    assert parse_day(text, TODAY) == day
    # at a police post open by day, 两点 with nothing else is two in the afternoon
    assert parse_clock(text) == (timewords.office_time(at, timewords.read(text, TODAY).part) if at else None)


ONCE = [(text, day, at) for text, day, at in TABLE
        if day and at and ("点" in text or ":" in text) and not any(w in text for w in ("吧", "周", "号"))]


@pytest.mark.parametrize("text, day, at", ONCE, ids=[row[0] for row in ONCE])
def test_a_one_off_schedule_reads_it_alike(text, day, at):
    spaced = timewords.normalize(text)
    for word in ("上午", "下午", "晚上", "中午"):  # /定时 wants the time after a space
        spaced = spaced.replace(word, " " + word, 1)
    when, rest = split_when(spaced.replace("  ", " "), NOW)
    assert (when.run_date.date(), when.run_date.time()) == (day, at) and rest == ""


@pytest.mark.parametrize("clock", [text for text, day, at in TABLE if at and day is None and ":" not in text
                                   and text not in ("中午", "两点", "凌晨3点", "三点一刻")])
def test_a_daily_schedule_reads_the_clock_alike(clock):
    when, _ = split_when(f"每天 {clock}", NOW)
    assert time(when.hour, when.minute) == timewords.read(clock, TODAY).time


@pytest.mark.parametrize("vague", ["随便", "随便哪天都行", "都行", "最早", "越早越好", "尽快", "什么时候都可以", "您定"])
def test_vague_answers_mean_the_earliest_free(vague):
    assert timewords.read(vague, TODAY).vague


def test_the_parts_of_the_day():
    assert [timewords.read(t, TODAY).part for t in ("上午", "早上", "下午", "傍晚", "晚上", "中午")] == [
        "上午", "上午", "下午", "下午", "晚上", "中午"]


@pytest.mark.parametrize("text", ["9999-12-31", "1900-01-01", "2099年1月1日", "9999-02-30"])
def test_a_year_far_off_is_refused_with_a_sentence(text):
    with pytest.raises(timewords.DateOutOfRange) as error:
        timewords.read(text, TODAY)
    assert "太远了" in str(error.value) and "2026-12-07" in str(error.value)
    assert parse_day(text, TODAY) is None


def test_schedules_and_statistics_refuse_such_a_year_too():
    with pytest.raises(TimeExprError) as error:
        split_when("9999-12-31 23:59 公告 全部 x", NOW)
    assert "太远了" in str(error.value)
    assert parse_period("9999-01-01..9999-12-31", TODAY) is None
    assert parse_period("2026-11-01..2026-11-30", TODAY).start == date(2026, 11, 1)


from hypothesis import given, settings, strategies as st  # noqa: E402

_WORDS = st.sampled_from(["明天", "后天", "下周", "周", "号", "月", "点", "半", "下午", "晚上", "中午", "9999", "-", "/",
                          "年", "十", "二", "0", "31", "13", ":", "：", "²", "٣", "\u200b", "随便", " "])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_WORDS, st.text(max_size=3)), max_size=12).map("".join))
def test_no_text_breaks_the_reading(text):
    """Whatever is typed: a Moment, or a DateOutOfRange sentence; never another exception."""
    try:
        moment = timewords.read(text, TODAY)
    except timewords.DateOutOfRange as error:
        assert "太远了" in str(error)
        return
    assert moment.day is None or timewords.MIN_YEAR <= moment.day.year <= TODAY.year + timewords.YEARS_AHEAD
    parse_clock(text), parse_day(text, TODAY)
