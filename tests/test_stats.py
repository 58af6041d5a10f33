"""Statistics: a scripted week, the Monday report in the work group, its chart, /统计 on demand."""

from __future__ import annotations

import struct
import warnings
from datetime import date, datetime, timedelta

import pytest

import handlers.stats as stats_plugin
from bot.clock import SHANGHAI
from handlers.stats.chart import HEIGHT_PX, WIDTH_PX, render_week_chart
from handlers.stats.report import fmt_count, parse_period, Period
from storage import counters
from tests.conftest import make_config
from storage import stats as stats_storage
from storage.stats import Scope

WORK = "幸福里警务工作群"
MONDAY_0900 = datetime(2026, 12, 14, 9, 0, tzinfo=SHANGHAI)


async def bump(bot, day: date, metric: str, key: str = "", n: int = 1, room: str | None = "幸福里居民群",
               category: str = "resident") -> None:
    app = bot.app
    at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI)
    async with app.sessions.begin() as session:
        await counters.bump(session, app.name, at, metric, room_id=bot.room_id(room) if room else None,
                            category=category if room else "", key=key, n=n)


async def script_a_week(bot) -> None:
    """History, the week before, and the week of 12-07..12-13 as the residents and features lived it."""
    await bump(bot, date(2026, 10, 15), "messages", n=12000)  # an older month: rolled up
    await bump(bot, date(2026, 10, 15), "consultations", "answered", n=140)
    await bump(bot, date(2026, 12, 2), "messages", n=4)  # the week before
    await bump(bot, date(2026, 12, 2), "suggestions", n=4)
    bot.take()
    await bot.advance(timedelta(days=1))  # Tuesday 12-08
    for text in ["大家早上好", "今天天气不错", "楼下快递放哪了", "谢谢物业", "收到"]:
        await bot.say("王阿姨", text, room="幸福里居民群")
    await bot.say("小周", "电梯修好了吗", room="幸福里3号楼群")
    await bot.say("赵楼长", "修好了", room="幸福里3号楼群")
    tuesday = date(2026, 12, 8)
    await bump(bot, tuesday, "consultations", "answered", n=3)
    await bump(bot, tuesday, "consultations", "forwarded", room=None)
    await bump(bot, tuesday, "consultation_topics", "residence-permit", n=2)
    await bump(bot, tuesday, "consultation_topics", "id-card")
    await bump(bot, date(2026, 12, 10), "suggestions", n=2)
    await bump(bot, tuesday, "tips", "毒品", room=None)
    await bump(bot, tuesday, "appointments_booked", "居住证", n=2, room=None)
    await bump(bot, tuesday, "pushes", "antifraud", room="幸福里居民群")
    await bump(bot, tuesday, "new_members", n=3)


@pytest.fixture
def config(db_url):
    """The sample community without its push schedules: the scripted week counts pushes itself."""
    return make_config(db_url, pushes={"schedules": []})


def png_size(path) -> tuple[int, int]:
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


async def test_monday_report_sums_up_the_week_in_the_articles_style(bot):
    await script_a_week(bot)
    bot.take()

    await bot.run_until(MONDAY_0900 + timedelta(minutes=5))

    sent = [r for r in bot.take() if r.out.room_id == bot.room_id(WORK)]
    texts = [r.out.text for r in sent if r.out.kind == "text"]
    assert len(texts) == 1
    report = texts[0]
    assert "【幸福里社区警民群周报】12月7日至12月13日" in report
    assert "交流信息7条（比前一周增加75%）" in report
    assert "参与交流3人次" in report
    assert "业务咨询4次（自动解答3次，转民警1次）" in report
    assert "意见建议2条（比前一周减少50%）" in report
    assert "线索举报1条" in report
    assert "预约办理2件" in report
    assert "推送反诈宣传1次" in report
    assert "新入群3人" in report
    assert "居民群（1个群）：信息5条，咨询3次" in report
    assert "楼栋群（1个群）：信息2条" in report
    assert "热门咨询：居住证（2次）、身份证（1次）" in report
    assert "待处理线索" not in report  # counted tips, but no tip row is open
    assert "累计群内交流信息1.2万余条，业务咨询144次" in report
    for other in ("幸福里居民群", "幸福里3号楼群"):
        assert not bot.texts_to(other, sent)

    images = [r for r in sent if r.out.kind == "image"]
    assert len(images) == 1
    assert png_size(images[0].out.text) == (WIDTH_PX, HEIGHT_PX)


async def test_weekly_report_is_posted_once_across_restarts(bot):
    await bot.run_until(MONDAY_0900 - timedelta(minutes=30))
    await bot.restart()  # down shortly before 09:00: the job survives in the database
    await bot.run_until(MONDAY_0900 + timedelta(minutes=5))
    posted = [t for t in bot.texts_to(WORK) if "12月7日至12月13日" in t]
    assert len(posted) == 1

    await bot.restart()
    # The job firing again for the same Monday (a catch-up after a crash) adds nothing.
    await stats_plugin.weekly_job(bot.app, {}, MONDAY_0900)
    await bot.advance(timedelta(days=1))
    assert len([t for t in bot.texts_to(WORK) if "12月7日至12月13日" in t]) == 1


async def test_publish_again_on_purpose(bot):
    await bot.run_until(MONDAY_0900 + timedelta(hours=1))
    bot.take()
    await bot.say("张警官", "/统计 上周 发布")
    sent = bot.take()
    assert "12月7日至12月13日的周报已重新发到1个工作群" in bot.texts_to("张警官", sent)[-1]
    work = [r for r in sent if r.out.room_id == bot.room_id(WORK)]
    assert any("12月7日至12月13日" in r.out.text for r in work if r.out.kind == "text")
    assert [r.out.kind for r in work].count("image") == 1


async def test_property_cannot_publish_but_can_read(bot):
    await bot.say("物业李经理", "/统计 上周 发布")
    assert "只有民警" in bot.texts_to("物业李经理")[-1]
    await bot.say("物业李经理", "/统计 本周")
    assert "【幸福里社区统计】本周12月7日至12月7日" in bot.texts_to("物业李经理")[-1]


async def test_stats_on_demand_for_a_group_and_a_category(bot):
    await script_a_week(bot)
    await bot.say("小刘", "/统计 2026-12-07..2026-12-13 幸福里3号楼群")
    text = bot.texts_to("小刘")[-1]
    assert "（幸福里3号楼群）" in text and "交流信息2条" in text
    assert "分群情况" not in text
    await bot.say("小刘", "/统计 2026-12-07..2026-12-13 居民群")
    text = bot.texts_to("小刘")[-1]
    assert "（居民群）" in text and "交流信息5条" in text and "业务咨询3次" in text
    await bot.say("小刘", "/统计 本周 不存在的群")
    assert "没有找到“不存在的群”" in bot.texts_to("小刘")[-1]


async def test_residents_get_no_statistics(bot):
    await bot.say("王阿姨", "/统计")
    assert not any("统计】" in t for t in bot.texts_to("王阿姨"))


def test_large_numbers_are_written_as_wan():
    assert fmt_count(150) == "150"
    assert fmt_count(12000) == "1.2万"
    assert fmt_count(12345) == "1.2万余"
    assert fmt_count(10000) == "1万"
    assert fmt_count(19999) == "1.9万余"
    assert fmt_count(230_000_000) == "2.3亿"


def test_periods():
    monday = date(2026, 12, 14)
    assert parse_period("上周", monday) == Period(date(2026, 12, 7), date(2026, 12, 13))
    assert parse_period("本周", date(2026, 12, 16)) == Period(monday, date(2026, 12, 16))
    assert parse_period("本月", monday) == Period(date(2026, 12, 1), monday)
    assert parse_period("上月", monday) == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert parse_period("2026-11-01..2026-11-30", monday) == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert parse_period("2026-12-01..2026-11-30", monday) is None
    assert parse_period("幸福里", monday) is None


def test_chart_renders_chinese_without_missing_glyphs(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = render_week_chart(tmp_path / "c.png", "幸福里社区 每日交流、咨询和建议", date(2026, 12, 7),
                                 {"messages": [5, 9, 3, 0, 12, 7, 1], "consultations": [1, 0, 2, 0, 3, 0, 0],
                                  "suggestions": [0, 1, 0, 0, 0, 2, 0]})
    assert not [w for w in caught if "missing from" in str(w.message)]
    assert png_size(path) == (WIDTH_PX, HEIGHT_PX)


async def test_totals_since_the_start_are_the_same_with_months_rolled_up(bot):
    for day, n in ((date(2026, 9, 30), 7), (date(2026, 10, 1), 11), (date(2026, 11, 30), 13), (date(2026, 12, 3), 17)):
        await bump(bot, day, "messages", n=n)
        await bump(bot, day, "consultations", "answered", n=1, room=None)
    app = bot.app
    async with app.sessions.begin() as session:
        before = await stats_storage.since_start(session, app.name, date(2026, 12, 13))
        assert await stats_storage.roll_up_months(session, app.name, date(2026, 12, 14)) == 3  # Sep, Oct, Nov
        assert await stats_storage.roll_up_months(session, app.name, date(2026, 12, 14)) == 0
        after = await stats_storage.since_start(session, app.name, date(2026, 12, 13))
        up_to_october = await stats_storage.since_start(session, app.name, date(2026, 10, 31))
        in_residents = await stats_storage.since_start(session, app.name, date(2026, 12, 13),
                                                       Scope(category="resident"))
    assert before.by_key == after.by_key
    assert after.get("messages") == 48 and after.get("consultations") == 4
    assert up_to_october.get("messages") == 18
    assert in_residents.get("messages") == 48 and in_residents.get("consultations") == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_report_day_and_time_come_from_the_config(db_url):
    from bot.harness import Harness
    from tests.conftest import make_config

    config = make_config(db_url, stats={"weekly_day": "fri", "weekly_time": "17:30"})
    async with Harness(config) as bot:
        await bot.run_until(datetime(2026, 12, 11, 17, 29, tzinfo=SHANGHAI))
        assert not [t for t in bot.texts_to(WORK) if "周报" in t]
        await bot.run_until(datetime(2026, 12, 11, 17, 31, tzinfo=SHANGHAI))
        reports = [t for t in bot.texts_to(WORK) if "周报" in t]
        assert len(reports) == 1 and "11月30日至12月6日" in reports[0]
