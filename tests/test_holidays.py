"""Holidays for any year: statutory days where the published data stops, /节假日 to show and set
days (kept in the database), officers told from 1 November that next year's 调休 is not known."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import SHANGHAI, FakeClock
from bot.harness import Harness
from bot.plugins import available
from storage.calendar_days import CalendarDay
from tests.conftest import make_config

OFFICER = "张警官"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def with_holidays(db_url, **sections):
    """Every plugin, the holidays one included (by path until the package is reinstalled)."""
    names = available()
    plugins = names if "holidays" in names else [*names, "handlers.holidays:plugin"]
    # Nobody books here: no hour-before booking reminders running empty every slot of every day.
    sections.setdefault("appointments", {"reminder_before_minutes": 0})
    return make_config(db_url, plugins=plugins, **sections)


@pytest.fixture
async def bot_at(db_url, calendar_knows):
    calendar_knows(2026)  # as chinesecalendar 1.11: 2026 published, 2027 not
    bots: list[Harness] = []

    async def make(start: datetime, **sections) -> Harness:
        bots.append(Harness(with_holidays(db_url, **sections), clock=FakeClock(start)))
        await bots[-1].start()
        return bots[-1]

    yield make
    for b in bots:
        await b.stop()


def last(bot: Harness, name: str) -> str:
    return bot.texts_to(name)[-1]


async def test_a_holiday_schedule_and_bookings_skip_next_years_statutory_days(bot_at):
    bot = await bot_at(at(2026, 12, 28, 10, 0))
    await bot.say(OFFICER, "/定时 每天 09:00 公告 幸福里居民群 早安 节假日不发")
    reply = last(bot, OFFICER)
    assert "已建立计划 1" in reply and "下次发送：2026-12-29 09:00" in reply
    await bot.say(OFFICER, "/定时 2027-01-01 10:00 公告 幸福里居民群 新年好 节假日不发")
    assert last(bot, OFFICER) == "2027-01-01 是法定节假日，按“节假日不发”这次不会发送。请换一天，或去掉“节假日不发”。"
    await bot.run_until(at(2027, 1, 2, 12, 0))
    mornings = [r.at.date().isoformat() for r in bot.sent if r.out.room_id == bot.room_id("幸福里居民群")
                and r.out.text == "【社区公告】早安"]
    assert mornings == ["2026-12-29", "2026-12-30", "2026-12-31", "2027-01-02"]


async def test_officers_see_add_and_remove_days_and_they_survive_a_restart(bot_at):
    bot = await bot_at(at(2026, 12, 8, 10, 0))
    await bot.say(OFFICER, "/节假日 2027")
    shown = last(bot, OFFICER)
    assert shown.startswith("【2027年节假日】\n国务院还没有公布2027年的放假调休安排")
    for line in ("元旦：1月1日", "春节：2月5日至2月8日", "清明节：4月5日", "劳动节：5月1日至5月2日", "端午节：6月9日",
                 "中秋节：9月15日", "国庆节：10月1日至10月3日", "调休上班：无"):
        assert line in shown, line
    await bot.say(OFFICER, "/节假日 添加 2027-02-09..2027-02-11 春节")
    assert last(bot, OFFICER).startswith("好的，2027-02-09 至 2027-02-11 记为“春节”休息日")
    await bot.say(OFFICER, "/节假日 调休 2027-02-20")
    assert last(bot, OFFICER).startswith("好的，2027-02-20 记为调休上班日")
    await bot.say(OFFICER, "/节假日 删除 2027-06-09")
    assert last(bot, OFFICER).startswith("好的，2027-06-09 改回平常日子")
    await bot.say(OFFICER, "/节假日 添加 明年春节")
    assert last(bot, OFFICER).startswith("没看懂“明年春节”。日期请写成 2027-02-09")
    await bot.say("王阿姨", "/节假日 添加 2027-03-01")  # a resident may not
    await bot.restart()
    cal = bot.app.calendar
    assert cal.is_holiday(datetime(2027, 2, 10).date()) and cal.is_workday(datetime(2027, 2, 20).date())
    assert cal.is_workday(datetime(2027, 6, 9).date()) and cal.is_workday(datetime(2027, 3, 1).date())
    await bot.say(OFFICER, "/节假日 2027")
    shown = last(bot, OFFICER)
    assert "春节：2月9日至2月11日（本地设置）" in shown and "端午节" not in shown
    assert "2月20日（周六）（本地设置）" in shown and "本地改为平常日子的：6月9日" in shown
    async with bot.app.sessions() as session:
        kinds = dict((await session.execute(select(CalendarDay.day, CalendarDay.kind))).all())
    assert len(kinds) == 5 and set(kinds.values()) == {"holiday", "workday", "ordinary"}


async def test_from_november_officers_hear_once_that_next_years_arrangement_is_unknown(bot_at):
    bot = await bot_at(at(2026, 10, 31, 8, 0))
    await bot.run_until(at(2026, 10, 31, 12, 0))
    assert [t for t in bot.texts_to(OFFICER) if "调休安排" in t] == []
    await bot.run_until(at(2026, 11, 3, 12, 0))
    told = [t for t in bot.texts_to(OFFICER) if "调休安排" in t]
    assert told == ["提醒：国务院还没有公布2027年的放假调休安排。在公布之前，机器人只按《全国年节及纪念日放假办法》"
                    "把法定节日当作休息日（元旦、春节除夕至初三、清明、劳动节、端午、中秋、国庆），不知道调休和补班。"
                    "公布后请发 /节假日 添加 和 /节假日 调休 补上；发 /节假日 2027 可以查看。"]
    assert [t for t in bot.texts_to("王阿姨") if "调休" in t] == []
    await bot.run_until(at(2026, 12, 1, 9, 30))  # still unknown a month later: said once more
    assert len([t for t in bot.texts_to(OFFICER) if "调休安排" in t]) == 2


async def test_no_november_notice_once_the_days_are_entered(bot_at):
    bot = await bot_at(at(2026, 10, 31, 8, 0))
    await bot.say(OFFICER, "/节假日 调休 2027-02-20")
    await bot.run_until(at(2026, 11, 2, 12, 0))
    assert [t for t in bot.texts_to(OFFICER) if "调休安排" in t] == []


def test_check_config_warns_of_a_year_without_an_arrangement(calendar_knows):
    from datetime import date

    from bot.cli import calendar_warnings
    from tests.conftest import sample_raw
    from bot.config import parse_config

    calendar_knows(2026)
    config = parse_config(sample_raw(), env={})
    [warning] = calendar_warnings(config, today=date(2026, 12, 2))
    assert warning.startswith("calendar: chinesecalendar") and "no public-holiday arrangement for 2027" in warning
    calendar_knows(2026, 2027)
    assert calendar_warnings(config, today=date(2026, 12, 2)) == []
