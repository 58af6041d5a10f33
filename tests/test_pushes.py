"""Scheduled pushes as conversations: schedules fire on the harness clock, groups get notices."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import SHANGHAI, FakeClock
from bot.harness import Harness
from storage.models import Counter
from storage.pushes import PushLog, PushScheduleRow
from tests.conftest import make_config

OFFICER = "张警官"
NOTICE_HEAD = "【反诈提醒"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def community(db_url, *, schedules=(), residents=2, **extra):
    """Resident groups 居民1群.., a work group, a building group and an uncategorised-free set."""
    groups = [{"name": f"居民{i}群", "category": "resident"} for i in range(1, residents + 1)]
    groups += [{"name": "警务工作群", "category": "work"}, {"name": "3号楼群", "category": "building"}]
    rooms = [g["name"] for g in groups]
    contacts = [{"name": OFFICER, "id": "wx_zhang", "role": "officer", "rooms": rooms},
                {"name": "小刘", "id": "wx_liu", "role": "staff", "rooms": rooms},
                {"name": "王阿姨", "id": "wx_wang", "rooms": rooms[:1]}]
    pushes = {"rotation_weeks": 8, "grace_minutes": 60, "schedules": list(schedules)}
    # No hour-before booking reminders: nobody books here, and over six weeks of clock their
    # ~1,300 empty runs were most of this file's time.
    extra.setdefault("appointments", {"reminder_before_minutes": 0})
    return make_config(db_url, groups=groups, contacts=contacts, pushes=pushes, **extra)


async def started(config, start: datetime) -> Harness:
    harness = Harness(config, clock=FakeClock(start))
    await harness.start()
    return harness


@pytest.fixture
async def run(db_url):
    """Start a bot on a community and stop it after the test."""
    bots: list[Harness] = []

    async def make(start=at(2026, 12, 7, 8, 0), **kw) -> Harness:
        bots.append(await started(community(db_url, **kw), start))
        return bots[-1]

    yield make
    for b in bots:
        await b.stop()


def texts(bot: Harness, name: str) -> list[str]:
    """What a group or person got, leaving out the weekly statistics report and its chart."""
    return [t for t in bot.texts_to(name) if "周报】" not in t and not t.endswith(".png")]


def notices(bot: Harness, room: str) -> list[str]:
    return [t for t in texts(bot, room) if t.startswith(NOTICE_HEAD)]


async def test_weekly_antifraud_over_six_weeks_rotates_and_skips_the_work_group(run):
    bot = await run(schedules=[{"id": "weekly", "when": "每周一 09:00", "kind": "antifraud",
                                "target": "居民群"}])
    await bot.advance(timedelta(weeks=6))
    for room in ("居民1群", "居民2群"):
        sent = notices(bot, room)
        assert len(sent) == 6
        assert len(set(sent)) == 6, "a notice was repeated within the rotation window"
    assert texts(bot, "警务工作群") == []
    assert texts(bot, "3号楼群") == []
    async with bot.app.sessions() as s:
        logged = (await s.execute(select(func.count()).select_from(PushLog))).scalar_one()
        counted = (await s.execute(select(func.sum(Counter.value)).where(
            Counter.metric == "pushes", Counter.key == "antifraud", Counter.category == "resident"))).scalar_one()
    assert logged == 12 and counted == 12


async def test_a_push_due_in_quiet_hours_waits_for_the_morning(run):
    bot = await run(schedules=[{"id": "late", "when": "每天 23:00", "kind": "announcement", "target": "居民1群",
                                "text": "明早8点小区停水，请提前储水。"}])
    await bot.run_until(at(2026, 12, 8, 7, 0))
    assert texts(bot, "居民1群") == []
    await bot.run_until(at(2026, 12, 8, 7, 45))
    sent = [r for r in bot.sent if r.out.room_id == bot.room_id("居民1群")]
    assert [r.out.text for r in sent] == ["【社区公告】明早8点小区停水，请提前储水。"]
    assert at(2026, 12, 8, 7, 30) <= sent[0].at < at(2026, 12, 8, 7, 35)


async def test_a_public_holiday_is_skipped(run):
    bot = await run(start=at(2026, 9, 29, 8, 0), schedules=[
        {"id": "daily", "when": "每天 09:00", "kind": "announcement", "target": "居民1群", "text": "每日提醒",
         "skip_holidays": True}])
    await bot.run_until(at(2026, 10, 1, 12, 0))
    # 09-29 and 09-30 are working days; 10-01 is 国庆.
    assert texts(bot, "居民1群") == ["【社区公告】每日提醒"] * 2


async def test_a_workday_schedule_follows_the_make_up_saturday(run):
    # 国庆 runs to 10-07 (a Wednesday); 10-10 (a Saturday) is a make-up workday, 10-11 is not.
    bot = await run(start=at(2026, 10, 7, 8, 0), schedules=[
        {"id": "wd", "when": "工作日 08:30", "kind": "announcement", "target": "居民1群", "text": "上班提醒"}])
    await bot.run_until(at(2026, 10, 11, 12, 0))
    days = [r.at.date().isoformat() for r in bot.sent if r.out.room_id == bot.room_id("居民1群")]
    assert days == ["2026-10-08", "2026-10-09", "2026-10-10"]


async def test_a_year_without_an_arrangement_skips_its_statutory_days_and_warns_once(run, caplog, calendar_knows):
    calendar_knows(2026)
    caplog.set_level(logging.WARNING)
    bot = await run(start=at(2026, 12, 31, 8, 0), schedules=[
        {"id": "daily", "when": "每天 09:00", "kind": "announcement", "target": "居民1群", "text": "提醒",
         "skip_holidays": True}])
    await bot.run_until(at(2027, 1, 6, 12, 0))
    days = [r.at.date().isoformat() for r in bot.sent if r.out.room_id == bot.room_id("居民1群")]
    # 2027's arrangement is not published: 元旦 (01-01, a Friday) is still a statutory day off;
    # the weekend after it is a plain weekend, where 节假日不发 still sends.
    assert days == ["2026-12-31", "2027-01-02", "2027-01-03", "2027-01-04", "2027-01-05", "2027-01-06"]
    warnings = [r for r in caplog.records if "2027" in r.getMessage() and "extra_holidays" in r.getMessage()]
    assert len(warnings) == 1


async def test_a_schedule_created_in_chat_fires_and_can_be_listed_paused_and_cancelled(run):
    bot = await run()
    await bot.say(OFFICER, "/定时 每天 08:30 公告 全部 今天下午停水，请提前储水。")
    reply = texts(bot, OFFICER)[-1]
    assert "已建立计划 1" in reply and "2026-12-07 08:30" in reply
    await bot.say(OFFICER, "/定时 2026-12-09 18:00 反诈 居民2群")
    assert "已建立计划 2" in texts(bot, OFFICER)[-1]
    await bot.say(OFFICER, "/计划")
    listing = texts(bot, OFFICER)[-1]
    assert "1. 每天 08:30 公告 → 全部" in listing and "2026-12-09 18:00" in listing

    await bot.run_until(at(2026, 12, 7, 9, 0))
    for room in ("居民1群", "居民2群", "警务工作群", "3号楼群"):
        assert texts(bot, room) == ["【社区公告】今天下午停水，请提前储水。"]
    await bot.say(OFFICER, "/暂停计划 1")
    await bot.run_until(at(2026, 12, 9, 20, 0))
    assert len(texts(bot, "居民1群")) == 1  # paused
    assert len(notices(bot, "居民2群")) == 1  # the one-off anti-fraud push
    await bot.restart()
    await bot.say(OFFICER, "/计划")
    listing = texts(bot, OFFICER)[-1]
    assert "已暂停" in listing and "2026-12-09" not in listing  # the one-off is done
    await bot.say(OFFICER, "/恢复计划 1")
    assert "2026-12-10 08:30" in texts(bot, OFFICER)[-1]
    await bot.say(OFFICER, "/取消计划 1")
    assert "已取消" in texts(bot, OFFICER)[-1]
    await bot.run_until(at(2026, 12, 11, 9, 0))
    assert len(texts(bot, "居民1群")) == 1


async def test_a_residents_schedule_command_is_refused(run):
    bot = await run()
    await bot.say("王阿姨", "/定时 每天 08:30 公告 全部 大家好", room="居民1群")
    assert "抱歉，这个命令只有" in texts(bot, "居民1群")[-1]
    async with bot.app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(PushScheduleRow))).scalar_one() == 0


@pytest.mark.parametrize("command, expected", [
    ("/定时 每周八 09:00 反诈 居民群", "例如：/定时 每周一 09:00 反诈 居民群"),
    ("/定时 每天 反诈 居民群", "几点"),
    ("/定时 2026-02-30 09:00 反诈 居民群", "没有 2 月 30 日"),
    ("/定时 每天 25:00 反诈 居民群", "例如：/定时 每周一 09:00 反诈 居民群"),
    ("/定时 每天 09:00 唱歌 居民群", "反诈、公告 或 警务动态"),
    ("/定时 每天 09:00 反诈 隔壁小区群", "没有找到“隔壁小区群”"),
])
async def test_bad_schedules_get_an_example(run, command, expected):
    bot = await run()
    await bot.say(OFFICER, command)
    assert expected in texts(bot, OFFICER)[-1]


async def test_restart_in_the_middle_of_a_push_to_ten_groups_sends_each_once(run):
    bot = await run(residents=10, schedules=[{"id": "weekly", "when": "每周一 09:00", "kind": "antifraud",
                                              "target": "resident"}])
    await bot.run_until(at(2026, 12, 7, 9, 0, 7))  # a few groups have it, the rest are queued
    done = sum(1 for i in range(1, 11) if notices(bot, f"居民{i}群"))
    assert 0 < done < 10
    await bot.restart()
    # The job firing again for the same due time (a double fire) must not add anything either.
    from handlers.pushes.jobs import run_schedule
    await run_schedule(bot.app, {"schedule": "weekly"}, at(2026, 12, 7, 9, 0))
    bot.app.outbox.wake()  # what the scheduler's job runner does after a job
    await bot.advance(timedelta(minutes=5))
    for i in range(1, 11):
        assert len(notices(bot, f"居民{i}群")) == 1, f"居民{i}群"


@pytest.mark.parametrize("down_minutes, expected", [(30, 1), (90, 0)])
async def test_a_push_missed_while_down_is_sent_within_grace_or_skipped(run, caplog, down_minutes, expected):
    caplog.set_level(logging.WARNING)
    bot = await run(schedules=[{"id": "news", "when": "每天 09:00", "kind": "police_news", "target": "居民1群",
                                "text": "近期电动车盗窃高发，请锁好车。"}])
    await bot.run_until(at(2026, 12, 7, 8, 50))
    await bot.stop()
    bot.clock.set(at(2026, 12, 7, 9, 0) + timedelta(minutes=down_minutes))
    await bot.start()
    await bot.advance(timedelta(minutes=5))
    assert texts(bot, "居民1群") == ["【警务动态】近期电动车盗窃高发，请锁好车。"] * expected
    missed = [r for r in caplog.records if r.getMessage() == "job missed"]
    assert len(missed) == 1 - expected
    await bot.run_until(at(2026, 12, 8, 9, 5))
    assert len(texts(bot, "居民1群")) == expected + 1


async def test_push_now_reports_a_summary_to_the_officer(run):
    bot = await run()
    await bot.say(OFFICER, "/公告 今天下午2点到5点停水，请提前储水。 居民群")
    assert "正在向 2 个群推送公告" in texts(bot, OFFICER)[-1]
    await bot.advance(timedelta(minutes=3))
    assert texts(bot, "居民1群") == ["【社区公告】今天下午2点到5点停水，请提前储水。"]
    assert texts(bot, OFFICER)[-1] == "推送完成：已推送 2/2 个群。"
    await bot.say("小刘", "/反诈 冒充公检法 全部")
    await bot.advance(timedelta(minutes=3))
    for room in ("居民1群", "居民2群", "警务工作群", "3号楼群"):
        assert "冒充公检法" in notices(bot, room)[-1]
    assert texts(bot, "小刘")[-1] == "推送完成：已推送 4/4 个群。"


async def test_push_now_names_the_groups_that_failed(run):
    bot = await run()
    failing = bot.room_id("居民2群")
    real_send = bot.transport.send

    async def send(out):
        if out.room_id == failing:
            from bot.transport import TransportError
            raise TransportError("room gone")
        return await real_send(out)

    bot.transport.send = send
    await bot.say(OFFICER, "/反诈")
    await bot.advance(timedelta(hours=1))
    summary = [t for t in texts(bot, OFFICER) if t.startswith("推送完成")]
    assert summary == ["推送完成：已推送 1/2 个群。没有发出去的群：居民2群。可以稍后再推送一次。"]


async def test_police_news_pushed_at_night_goes_out_in_the_morning_then_the_summary(run):
    bot = await run(start=at(2026, 12, 7, 22, 30))
    await bot.say(OFFICER, "/警务动态 本周破获电信诈骗案2起，请大家提高警惕。 居民1群")
    assert "2026-12-08 07:30" in texts(bot, OFFICER)[-1]
    await bot.run_until(at(2026, 12, 8, 7, 0))
    assert texts(bot, "居民1群") == []
    await bot.run_until(at(2026, 12, 8, 7, 45))
    assert texts(bot, "居民1群") == ["【警务动态】本周破获电信诈骗案2起，请大家提高警惕。"]
    assert texts(bot, OFFICER)[-1] == "推送完成：已推送 1/1 个群。"


async def test_an_uncategorised_group_gets_no_pushes(run):
    bot = await run(schedules=[{"id": "all", "when": "每天 09:00", "kind": "announcement", "target": "全部",
                                "text": "大家好"}])
    from bot.directory import Group
    async with bot.app.sessions.begin() as s:
        await bot.app.directory.save_group(s, Group("room:闲聊群", "闲聊群", None), bot.clock.now())
    await bot.run_until(at(2026, 12, 7, 9, 5))
    assert [r.out.room_id for r in bot.sent].count("room:闲聊群") == 0
    assert texts(bot, "居民1群") == ["【社区公告】大家好"]


async def test_a_config_schedule_can_be_paused_across_a_restart_but_not_cancelled(run):
    bot = await run(schedules=[{"id": "weekly", "when": "每周一 09:00", "kind": "antifraud", "target": "居民群"}])
    await bot.say(OFFICER, "/计划")
    assert "weekly. 每周一 09:00 反诈 → 居民群（配置文件）　下次：2026-12-07 09:00" in texts(bot, OFFICER)[-1]
    await bot.say(OFFICER, "/取消计划 weekly")
    assert "config.yaml" in texts(bot, OFFICER)[-1]
    await bot.say(OFFICER, "/暂停计划 weekly")
    await bot.restart()
    await bot.advance(timedelta(days=8))
    assert notices(bot, "居民1群") == []
    await bot.say(OFFICER, "/恢复计划 weekly")
    assert "2026-12-21 09:00" in texts(bot, OFFICER)[-1]
    await bot.advance(timedelta(days=7))
    assert len(notices(bot, "居民1群")) == 1


# ---------------------------------------------------------------- 节假日不发 in chat


def days_sent(bot: Harness, room: str) -> list[str]:
    return [r.at.date().isoformat() for r in bot.sent if r.out.room_id == bot.room_id(room)]


async def test_a_chat_schedule_can_skip_public_holidays(run):
    bot = await run(start=at(2026, 9, 29, 8, 0))
    await bot.say(OFFICER, "/定时 每天 09:00 公告 居民1群 每日提醒 节假日不发")
    assert texts(bot, OFFICER)[-1].startswith("好的，已建立计划 1：每天 09:00 向居民1群推送公告，节假日不发。"
                                              "下次发送：2026-09-29 09:00。")
    await bot.say(OFFICER, "/定时 每天 09:00 公告 居民2群 每日提醒")
    await bot.say(OFFICER, "/计划")
    listing = texts(bot, OFFICER)[-1]
    assert "1. 每天 09:00（节假日不发） 公告 → 居民1群　下次：2026-09-29 09:00" in listing
    assert "2. 每天 09:00 公告 → 居民2群　下次：2026-09-29 09:00" in listing
    await bot.run_until(at(2026, 10, 8, 12, 0))
    # 国庆 is 10-01 to 10-07 in 2026, the weekend inside it included.
    assert days_sent(bot, "居民1群") == ["2026-09-29", "2026-09-30", "2026-10-08"]
    assert texts(bot, "居民1群") == ["【社区公告】每日提醒"] * 3
    assert len(days_sent(bot, "居民2群")) == 10
    async with bot.app.sessions() as s:
        skip = dict((await s.execute(select(PushScheduleRow.id, PushScheduleRow.skip_holidays))).all())
    assert skip == {"1": True, "2": False}


async def test_the_holiday_word_may_follow_the_time_and_the_next_send_skips_the_holiday(run):
    bot = await run(start=at(2026, 9, 28, 8, 0))
    await bot.say(OFFICER, "/定时 每周五 16:00 节假日不发 反诈 居民群")
    # Friday 10-02 is 国庆: the first send is Friday 10-09.
    assert "下次发送：2026-10-09 16:00" in texts(bot, OFFICER)[-1]
    await bot.say(OFFICER, "/计划")
    assert "1. 每周五 16:00（节假日不发） 反诈 → 居民群　下次：2026-10-09 16:00" in texts(bot, OFFICER)[-1]
    await bot.run_until(at(2026, 10, 10, 12, 0))
    assert days_sent(bot, "居民1群") == ["2026-10-09"] and len(notices(bot, "居民2群")) == 1


async def test_a_workday_schedule_shows_the_next_working_day(run):
    bot = await run(start=at(2026, 9, 30, 12, 0))
    await bot.say(OFFICER, "/定时 工作日 08:30 公告 居民1群 上班提醒")
    assert "下次发送：2026-10-08 08:30" in texts(bot, OFFICER)[-1]


@pytest.mark.parametrize("command, expected", [
    ("/定时 每周五 16:00 节假日 反诈 居民群", "请在最后写“节假日不发”，例如：/定时 每周五 16:00 反诈 居民群 节假日不发"),
    ("/定时 每周五 16:00 反诈 居民群 节假日照发", "请在最后写“节假日不发”"),
    ("/定时 每周五 16:00 反诈 节假日不发 居民群", "请在最后写“节假日不发”"),
    ("/定时 每周五 16:00 反诈 居民群 中奖", "抱歉，“中奖”不是反诈类型"),
    ("/定时 2026-10-01 09:00 反诈 居民群 节假日不发", "2026-10-01 是法定节假日，按“节假日不发”这次不会发送"),
])
async def test_bad_holiday_words_get_one_clear_line(run, command, expected):
    bot = await run(start=at(2026, 9, 28, 8, 0))
    await bot.say(OFFICER, command)
    reply = texts(bot, OFFICER)[-1]
    assert expected in reply and "\n" not in reply
    async with bot.app.sessions() as s:
        chat = (await s.execute(select(func.count()).select_from(PushScheduleRow).where(
            PushScheduleRow.source == "chat"))).scalar_one()
    assert chat == 0
