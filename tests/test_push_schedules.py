"""Schedules from chat: how /定时 is read (pure), and that a schedule's job lives in scheduled_jobs,
written in the command's transaction, so a pause survives a restart and a failed command leaves none."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.clock import SHANGHAI
from bot.directory import Directory, Group
from bot.workcal import WorkCalendar
from handlers.pushes import schedules
from handlers.pushes.push_calendar import PushCalendar
from handlers.pushes.schedule_words import ScheduleRequest, read_schedule
from handlers.pushes.texts import Refusal
from handlers.pushes.timeexpr import TimeExprError
from storage.models import ScheduledJob
from storage.pushes import PushScheduleRow
from tests.test_pushes import OFFICER, at, run, texts  # noqa: F401  (run is a fixture)

# ---------------------------------------------------------------- reading /定时 (no bot)

NOW = at(2026, 9, 28, 8, 0)  # a Monday; 国庆 is 10-01 to 10-07


def community() -> Directory:
    d = Directory("test")
    for group in (Group("r1", "居民1群", "resident"), Group("r2", "居民2群", "resident"),
                  Group("x", "闲聊群", None)):
        d.groups[group.id] = group
    return d


def read(rest: str) -> ScheduleRequest:
    return read_schedule(rest, NOW, SHANGHAI, community(), PushCalendar(WorkCalendar().is_workday, WorkCalendar().is_public_holiday))


def refusal(rest: str) -> str:
    with pytest.raises(Refusal) as refused:
        read(rest)
    return refused.value.key


def test_an_anti_fraud_schedule_with_a_type_and_the_holiday_word_at_the_end():
    request = read("每周五 16:00 反诈 居民群 公检法 节假日不发")
    assert (request.when.describe(), request.kind, request.target) == ("每周五 16:00", "antifraud", "居民群")
    assert (request.notice_type, request.text, request.skip_holidays) == ("冒充公检法", None, True)


def test_the_holiday_word_may_come_right_after_the_time():
    request = read("每周五 16:00 节假日不发 反诈 居民群")
    assert (request.kind, request.target, request.notice_type, request.skip_holidays) == \
        ("antifraud", "居民群", None, True)


def test_an_announcement_keeps_its_words_as_typed():
    request = read("每天　08:30 公告 全部 今天下午停水，请提前储水。")
    assert (request.kind, request.target, request.text) == ("announcement", "全部", "今天下午停水，请提前储水。")
    assert not request.skip_holidays


@pytest.mark.parametrize("rest, key", [
    ("每天 09:00 反诈", "usage"),
    ("每天 09:00 唱歌 居民群", "bad_kind"),
    ("每天 09:00 节假日 反诈 居民群", "holiday_usage"),  # the flag said wrong, in the kind's place
    ("每天 09:00 反诈 节假日不发 居民群", "holiday_usage"),  # in the target's place
    ("每天 09:00 反诈 隔壁小区群", "bad_target"),
    ("每天 09:00 反诈 闲聊群", "no_groups"),
    ("每天 09:00 反诈 居民群 中奖", "bad_notice_type"),
    ("每天 09:00 反诈 居民群 节假日照发", "holiday_usage"),
    ("每天 09:00 公告 居民群", "need_text"),
    ("2026-10-01 09:00 反诈 居民群 节假日不发", "holiday_once"),
])
def test_a_schedule_that_cannot_be_gets_one_reason(rest, key):
    assert refusal(rest) == key


def test_a_time_the_bot_cannot_read_is_the_time_expressions_own_error():
    with pytest.raises(TimeExprError):
        read("每周八 09:00 反诈 居民群")


# ---------------------------------------------------------------- the job, in the command's transaction


async def job_row(bot, job_id: str) -> ScheduledJob | None:
    async with bot.app.sessions() as s:
        return await s.get(ScheduledJob, (bot.app.name, job_id))


async def test_a_paused_chat_schedule_stays_paused_across_a_restart_and_resumes(run):
    bot = await run()  # Monday 2026-12-07 08:00
    await bot.say(OFFICER, "/定时 每天 09:00 公告 居民1群 请锁好电动车。")
    assert "已建立计划 1" in texts(bot, OFFICER)[-1]
    assert (await job_row(bot, "push:1")).next_run_at == at(2026, 12, 7, 9, 0)

    await bot.say(OFFICER, "/暂停计划 1")
    assert texts(bot, OFFICER)[-1] == "计划 1 已暂停，用 /恢复计划 1 可以恢复。"
    assert (await job_row(bot, "push:1")).next_run_at is None  # the pause is in the table, not only in memory
    await bot.restart()
    assert bot.app.scheduler.job_ids("push:") == ["push:1"] and bot.app.scheduler.next_run("push:1") is None
    await bot.run_until(at(2026, 12, 9, 12, 0))
    assert texts(bot, "居民1群") == []
    await bot.say(OFFICER, "/计划")
    assert "1. 每天 09:00 公告 → 居民1群（已暂停）　下次：无" in texts(bot, OFFICER)[-1]

    await bot.say(OFFICER, "/恢复计划 1")
    assert texts(bot, OFFICER)[-1] == "计划 1 已恢复，下次发送：2026-12-10 09:00。"
    assert (await job_row(bot, "push:1")).next_run_at == at(2026, 12, 10, 9, 0)
    await bot.restart()
    await bot.run_until(at(2026, 12, 11, 9, 5))
    assert texts(bot, "居民1群") == ["【社区公告】请锁好电动车。"] * 2


async def test_a_schedule_command_that_fails_leaves_neither_schedule_nor_job(run, monkeypatch):
    bot = await run()

    def broken(*args, **kwargs):
        raise RuntimeError("the reply could not be written")

    monkeypatch.setattr(schedules, "next_send", broken)  # after the row and its job were written
    await bot.say(OFFICER, "/定时 每天 09:00 公告 居民1群 请锁好电动车。")
    assert texts(bot, OFFICER)[-1].startswith("抱歉，系统刚才出了点问题")
    assert bot.app.scheduler.job_ids("push:") == []
    async with bot.app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(ScheduledJob).where(
            ScheduledJob.id.like("push:%")))).scalar_one() == 0
        assert (await s.execute(select(func.count()).select_from(PushScheduleRow))).scalar_one() == 0
    monkeypatch.undo()
    await bot.advance(dt.timedelta(seconds=30))  # the same text within 10 s would be a redelivery
    await bot.say(OFFICER, "/定时 每天 09:00 公告 居民1群 请锁好电动车。")
    assert "已建立计划 1" in texts(bot, OFFICER)[-1]
    await bot.run_until(at(2026, 12, 7, 9, 5))
    assert texts(bot, "居民1群") == ["【社区公告】请锁好电动车。"]
