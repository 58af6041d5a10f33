import datetime as dt

import pytest

from bot.workcal import OfficialDays, WorkCalendar, covered_years, statutory_days, unknown_year_warning

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


# Official data the tests own: "the package" knows 2026's 国庆 and its make-up Saturday, and no
# other year, whatever the installed chinesecalendar knows.
KNOWS_2026 = OfficialDays(holidays={D(2026, 10, d): "国庆节" for d in range(1, 8)},
                          workdays={D(2026, 10, 10): "国庆节"}, years=frozenset({2026}))


def test_a_year_the_data_does_not_know_gets_the_statutory_days_and_warns_once():
    calls = []
    cal = WorkCalendar(on_unknown_year=calls.append, official=KNOWS_2026)
    assert cal.is_holiday(D(2027, 1, 1))  # 元旦, a Friday
    assert cal.is_workday(D(2027, 3, 1))  # Monday
    assert cal.is_holiday(D(2027, 3, 6))  # Saturday
    assert [cal.is_holiday(D(2027, 10, d)) for d in range(1, 6)] == [True, True, True, False, False]
    assert calls == [2027]
    cal.is_workday(D(2028, 1, 3))
    assert calls == [2027, 2028]


@pytest.mark.parametrize("year, days", [
    # 除夕 to 初三 by the lunar calendar; 清明 by the solar term; 端午 and 中秋 by the lunar calendar.
    (2027, {"春节": ["2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"], "清明节": ["2027-04-05"],
            "端午节": ["2027-06-09"], "中秋节": ["2027-09-15"]}),
    (2030, {"春节": ["2030-02-02", "2030-02-03", "2030-02-04", "2030-02-05"], "清明节": ["2030-04-05"],
            "端午节": ["2030-06-05"], "中秋节": ["2030-09-12"]}),
])
def test_statutory_days_of_any_year(year, days):
    found = statutory_days(year)
    for name, listed in days.items():
        assert sorted(d.isoformat() for d, n in found.items() if n == name) == listed
    assert [d.isoformat() for d, n in found.items() if n == "劳动节"] == [f"{year}-05-01", f"{year}-05-02"]
    assert sorted(d.isoformat() for d, n in found.items() if n == "国庆节") == [f"{year}-10-0{i}" for i in (1, 2, 3)]
    assert found[D(year, 1, 1)] == "元旦" and len(found) == 13


def test_the_computed_days_match_the_published_ones_where_both_exist():
    """Every statutory day of 2008-2026 (after the 2007 revision) is a day off in chinesecalendar's
    data, except where a day fell inside another break (2020's 中秋 on 国庆)."""
    published = OfficialDays.from_package()
    for year in range(2015, 2027):
        for day, name in statutory_days(year).items():
            if name in ("劳动节", "国庆节", "春节") or year == 2020 and name == "中秋节":
                continue  # these breaks changed length in the 2025 revision, or merged
            assert day in published.holidays, (year, name, day)


def test_a_public_holiday_is_a_statutory_day_not_a_weekend():
    cal = WorkCalendar(official=KNOWS_2026)
    assert cal.is_public_holiday(D(2026, 10, 3))  # a Saturday inside 国庆
    assert not cal.is_public_holiday(D(2026, 10, 10))  # the make-up Saturday
    assert not cal.is_public_holiday(D(2026, 12, 5))  # a plain Saturday
    assert cal.is_public_holiday(D(2027, 2, 6))  # 2027's 春节, computed (a Saturday)
    assert not cal.is_public_holiday(D(2027, 2, 13))


def test_local_days_come_first_and_an_ordinary_day_takes_one_back():
    calls = []
    cal = WorkCalendar(
        extra_holidays={D(2027, 10, 4)},
        extra_workdays={D(2027, 9, 26)},  # a Sunday
        on_unknown_year=calls.append, official=KNOWS_2026,
    )
    assert cal.is_holiday(D(2027, 10, 1)) and cal.is_holiday(D(2027, 10, 4))
    assert cal.is_workday(D(2027, 9, 26))
    assert calls == []  # the post has entered days for 2027: no warning
    cal.set_stored({D(2027, 1, 1): ("ordinary", ""), D(2026, 10, 10): ("ordinary", ""),
                    D(2027, 2, 9): ("holiday", "春节")})
    assert cal.is_workday(D(2027, 1, 1)) and cal.is_holiday(D(2026, 10, 10)) and cal.is_holiday(D(2027, 2, 9))
    assert cal.info(D(2027, 2, 9)).name == "春节"


def test_unknown_year_without_hook_does_not_raise():
    assert WorkCalendar().is_workday(D(2030, 1, 7))


def test_warning_text_names_year_and_fix():
    text = unknown_year_warning(2027)
    assert "2027" in text
    assert "add its days with /节假日 (or config.yaml calendar.extra_holidays" in text
    assert "upgrade chinesecalendar" in text


def test_covered_years_are_read_from_the_data():
    assert covered_years(KNOWS_2026) == (2026, 2026)
    assert WorkCalendar(official=KNOWS_2026).knows_year(2026)
    assert not WorkCalendar(official=KNOWS_2026).knows_year(2027)


def test_next_workday_skips_the_golden_week():
    cal = WorkCalendar()
    assert cal.next_workday(D(2026, 9, 30)) == D(2026, 10, 8)
    assert cal.next_workday(D(2026, 10, 8), include_today=True) == D(2026, 10, 8)
