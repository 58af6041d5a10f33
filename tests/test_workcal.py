import datetime as dt

import pytest

from bot.workcal import WorkCalendar, covered_years, unknown_year_warning

D = dt.date


def test_national_day_2026_is_off():
    cal = WorkCalendar()
    for day in range(1, 8):
        assert cal.is_holiday(D(2026, 10, day)), day
    assert cal.is_workday(D(2026, 10, 9))  # Friday after the holiday


def test_makeup_workday_on_a_weekend():
    cal = WorkCalendar()
    # 2026-10-10 is a Saturday worked in exchange for the National Day week.
    assert D(2026, 10, 10).weekday() == 5
    assert cal.is_workday(D(2026, 10, 10))
    assert not cal.is_holiday(D(2026, 10, 10))


def test_ordinary_weekend_and_weekday():
    cal = WorkCalendar()
    assert cal.is_holiday(D(2026, 3, 7))  # Saturday
    assert cal.is_workday(D(2026, 3, 9))  # Monday


def test_accepts_datetime():
    cal = WorkCalendar(extra_holidays={D(2026, 3, 9)})
    assert cal.is_holiday(dt.datetime(2026, 3, 9, 8, 30))


def test_config_overrides_package():
    cal = WorkCalendar(extra_holidays={D(2026, 3, 9)}, extra_workdays={D(2026, 10, 3)})
    assert cal.is_holiday(D(2026, 3, 9))
    assert cal.is_workday(D(2026, 10, 3))


def test_same_date_in_both_lists_is_rejected():
    with pytest.raises(ValueError, match="2026-05-01"):
        WorkCalendar(extra_holidays={D(2026, 5, 1)}, extra_workdays={D(2026, 5, 1)})


def test_2027_falls_back_to_weekends_and_warns_once():
    calls = []
    cal = WorkCalendar(on_unknown_year=calls.append)
    assert cal.is_workday(D(2027, 3, 1))  # Monday
    assert cal.is_holiday(D(2027, 3, 6))  # Saturday
    assert cal.is_workday(D(2027, 10, 1))  # a Friday: unknown, so not a holiday
    assert calls == [2027]
    cal.is_workday(D(2028, 1, 3))
    assert calls == [2027, 2028]


def test_2027_config_dates_apply_and_silence_the_warning():
    calls = []
    cal = WorkCalendar(
        extra_holidays={D(2027, 10, 1), D(2027, 10, 4)},
        extra_workdays={D(2027, 9, 26)},  # a Sunday
        on_unknown_year=calls.append,
    )
    assert cal.is_holiday(D(2027, 10, 1))
    assert cal.is_holiday(D(2027, 10, 4))
    assert cal.is_workday(D(2027, 9, 26))
    assert cal.is_workday(D(2027, 10, 8))
    assert calls == []


def test_unknown_year_without_hook_does_not_raise():
    assert WorkCalendar().is_workday(D(2030, 1, 7))


def test_warning_text_names_year_and_fix():
    text = unknown_year_warning(2027)
    assert "2027" in text
    assert "add holidays for 2027 to config.yaml calendar.extra_holidays" in text
    assert "upgrade chinesecalendar" in text


def test_covered_years_includes_2026():
    first, last = covered_years()
    assert first <= 2026 <= last
    assert WorkCalendar().knows_year(2026)


def test_next_workday_skips_the_golden_week():
    cal = WorkCalendar()
    assert cal.next_workday(D(2026, 9, 30)) == D(2026, 10, 8)
    assert cal.next_workday(D(2026, 10, 8), include_today=True) == D(2026, 10, 8)
