import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from handlers.pushes.timeexpr import TimeExprError, When, parse_when, split_when

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=SH)  # a Tuesday


def cron(**kw):
    return When("cron", **kw)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("每天 08:30", cron(hour=8, minute=30)),
        ("每日 8:30", cron(hour=8, minute=30)),
        ("每周一 09:00", cron(hour=9, minute=0, day_of_week="mon")),
        ("每星期二 09:00", cron(hour=9, minute=0, day_of_week="tue")),
        ("每礼拜三 09:00", cron(hour=9, minute=0, day_of_week="wed")),
        ("周四 09:00", cron(hour=9, minute=0, day_of_week="thu")),
        ("星期五 09:00", cron(hour=9, minute=0, day_of_week="fri")),
        ("礼拜六 09:00", cron(hour=9, minute=0, day_of_week="sat")),
        ("每周日 09:00", cron(hour=9, minute=0, day_of_week="sun")),
        ("每周天 09:00", cron(hour=9, minute=0, day_of_week="sun")),
        ("每周一三五 09:00", cron(hour=9, minute=0, day_of_week="mon,wed,fri")),
        ("每周一、三、五 09:00", cron(hour=9, minute=0, day_of_week="mon,wed,fri")),
        ("每周一至周五 08:00", cron(hour=8, minute=0, day_of_week="mon,tue,wed,thu,fri")),
        ("星期一到星期五 08:00", cron(hour=8, minute=0, day_of_week="mon,tue,wed,thu,fri")),
        ("每周一至日 08:00", cron(hour=8, minute=0)),  # all seven days is just daily
        ("工作日 08:00", cron(hour=8, minute=0, workdays_only=True)),
        ("每个工作日 08:00", cron(hour=8, minute=0, workdays_only=True)),
        ("每月1号 10:00", cron(hour=10, minute=0, day=1)),
        ("每月15日 10:00", cron(hour=10, minute=0, day=15)),
        ("每月十五号 10:00", cron(hour=10, minute=0, day=15)),
        ("每月最后一天 10:00", cron(hour=10, minute=0, day="last")),
    ],
)
def test_recurring_forms(text, expected):
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize(
    "clock, hour, minute",
    [
        ("9:00", 9, 0),
        ("09:00", 9, 0),
        ("9点", 9, 0),
        ("9点半", 9, 30),
        ("9点15分", 9, 15),
        ("9点整", 9, 0),
        ("九点半", 9, 30),
        ("０９：００", 9, 0),
        ("下午3点", 15, 0),
        ("晚上8点半", 20, 30),
        ("下午15:00", 15, 0),
        ("中午12点", 12, 0),
        ("早上7:05", 7, 5),
    ],
)
def test_clock_forms(clock, hour, minute):
    w = parse_when(f"每天 {clock}", NOW)
    assert (w.hour, w.minute) == (hour, minute)


def test_no_space_between_day_and_clock():
    assert parse_when("每天8:30", NOW) == cron(hour=8, minute=30)
    assert parse_when("每周一9点", NOW) == cron(hour=9, minute=0, day_of_week="mon")


def test_weekday_numerals_do_not_swallow_the_hour():
    # 每周五六点 = every Friday at six, not Friday+Saturday without a time.
    assert parse_when("每周五六点", NOW) == cron(hour=6, minute=0, day_of_week="fri")


def test_full_width_everything():
    assert parse_when("每周一　０９：００", NOW) == cron(hour=9, minute=0, day_of_week="mon")
    assert parse_when("２０２６－１２－０１　１８：００", NOW).run_date == dt.datetime(2026, 12, 1, 18, 0, tzinfo=SH)


@pytest.mark.parametrize(
    "text, run",
    [
        ("2026-12-01 18:00", dt.datetime(2026, 12, 1, 18, 0)),
        ("2026/12/01 18:00", dt.datetime(2026, 12, 1, 18, 0)),
        ("2026年12月1日 18:00", dt.datetime(2026, 12, 1, 18, 0)),
        ("12-01 18:00", dt.datetime(2026, 12, 1, 18, 0)),
        ("12月1日 18点", dt.datetime(2026, 12, 1, 18, 0)),
        ("十二月一号 18点", dt.datetime(2026, 12, 1, 18, 0)),
        ("明天 09:00", dt.datetime(2026, 3, 11, 9, 0)),
        ("后天 9点半", dt.datetime(2026, 3, 12, 9, 30)),
        ("今天 18:00", dt.datetime(2026, 3, 10, 18, 0)),
        ("01-05 08:00", dt.datetime(2027, 1, 5, 8, 0)),  # gone this year -> next year
    ],
)
def test_one_off_forms(text, run):
    w = parse_when(text, NOW)
    assert w.kind == "once"
    assert w.run_date == run.replace(tzinfo=SH)
    assert w.run_date.tzinfo is not None


def test_naive_now_is_taken_as_shanghai_and_utc_now_is_converted():
    naive = parse_when("明天 09:00", NOW.replace(tzinfo=None))
    utc = parse_when("明天 09:00", NOW.astimezone(dt.timezone.utc))
    assert naive == utc == parse_when("明天 09:00", NOW)
    assert str(naive.run_date.tzinfo) == "Asia/Shanghai"


def test_split_when_returns_the_rest_of_the_command():
    when, rest = split_when("每周一 09:00 反诈 居民群", NOW)
    assert when == cron(hour=9, minute=0, day_of_week="mon")
    assert rest == "反诈 居民群"
    when, rest = split_when(["工作日", "8点", "警务动态", "全部"], NOW)
    assert when.workdays_only and rest == "警务动态 全部"


@pytest.mark.parametrize(
    "text",
    [
        "每天 08:30",
        "每周一、三、五 09:00",
        "每周一至周五 08:00",
        "工作日 08:00",
        "每月1号 10:00",
        "每月最后一天 10:00",
        "2026-12-01 18:00",
    ],
)
def test_describe_round_trips(text):
    w = parse_when(text, NOW)
    assert w.describe() == text
    assert parse_when(w.describe(), NOW) == w


def test_describe_normalises_input():
    assert parse_when("每周一三五 9点半", NOW).describe() == "每周一、三、五 09:30"
    assert parse_when("星期一 9点", NOW).describe() == "每周一 09:00"


def test_cron_trigger_fires_when_expected():
    trig = parse_when("每周一 09:00", NOW).trigger(SH)
    assert isinstance(trig, CronTrigger)
    assert trig.get_next_fire_time(None, NOW) == dt.datetime(2026, 3, 16, 9, 0, tzinfo=SH)
    trig = parse_when("每月最后一天 10:00", NOW).trigger("Asia/Shanghai")
    assert trig.get_next_fire_time(None, NOW) == dt.datetime(2026, 3, 31, 10, 0, tzinfo=SH)


def test_once_trigger():
    trig = parse_when("2026-12-01 18:00", NOW).trigger()
    assert isinstance(trig, DateTrigger)
    assert trig.get_next_fire_time(None, NOW) == dt.datetime(2026, 12, 1, 18, 0, tzinfo=SH)


def test_workdays_fire_every_day_and_defer_to_the_calendar():
    w = parse_when("工作日 08:00", NOW)
    # A make-up Saturday must not be excluded by the cron itself.
    assert "day_of_week" not in w.cron_fields()
    saturday = dt.date(2026, 10, 10)
    assert w.should_run_on(saturday, lambda d: True)
    assert not w.should_run_on(dt.date(2026, 10, 1), lambda d: False)
    assert parse_when("每天 08:00", NOW).should_run_on(dt.date(2026, 10, 1), lambda d: False)


def test_cron_fields_refused_for_once():
    with pytest.raises(ValueError):
        parse_when("明天 9点", NOW).cron_fields()


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "什么时候"),
        ("每天", "后面写上几点"),
        ("每周一", "后面写上几点"),
        ("9:00", "哪一天"),
        ("乱七八糟", "没看懂"),
        ("每天 25:00", "0-23"),
        ("每天 9:60", "0-59"),
        ("每月0号 9:00", "1 到 31"),
        ("每月31号 9:00", "每月最后一天"),
        ("2026-02-30 09:00", "没有 2 月 30 日"),
        ("02-30 09:00", "没有 2 月 30 日"),
        ("2026-03-01 09:00", "已经过去"),
        ("今天 11:00", "已经过去"),
        ("03-10 11:59", "已经过去"),  # today, time gone: no silent jump to next year
        ("每天 9:00 乱写", "没看懂"),
    ],
)
def test_errors_are_polite_and_show_an_example(text, fragment):
    with pytest.raises(TimeExprError) as err:
        parse_when(text, NOW)
    message = str(err.value)
    assert fragment in message
    assert "例如：/定时 " in message


def test_time_expr_error_is_a_value_error():
    assert issubclass(TimeExprError, ValueError)


def test_when_is_frozen():
    w = parse_when("每天 9点", NOW)
    with pytest.raises(AttributeError):
        w.hour = 10  # type: ignore[misc]
