"""Faults as tests: what a dropped database connection, a failed commit, a second process and
absurdly long names do to the bot. Each test is short (seconds); the long soak is
bench/bench_soak.py.

The kill -9 and gateway tests with real processes are in tests/test_faults_processes.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

import pytest
import yaml
from sqlalchemy import select, text

from bot.clock import SHANGHAI, FakeClock
from bot.directory import Person
from bot.harness import Harness
from bot.instance import AlreadyRunning
from storage.models import Contact, Room, ScheduledJob
from storage.understanding import Consultation
from tests.conftest import ROOT, _on_database, make_config, sample_raw

OFFICER, WORK = "张警官", "幸福里警务工作群"
MONDAY = datetime(2026, 12, 7, 8, 0, tzinfo=SHANGHAI)


@pytest.fixture
async def bot(db_url):
    harness = Harness(make_config(db_url), clock=FakeClock(MONDAY))
    await harness.start()
    yield harness
    await harness.stop()


async def _terminate_connections(bot: Harness) -> int:
    """pg_terminate_backend on every other connection to the bot's database (pool and locks)."""
    async with bot.app.engine.connect() as conn:
        killed = (await conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))).scalar_one()
    return killed


# ---- PostgreSQL connections terminated mid-flow ------------------------------------------------

async def test_schedules_survive_connections_terminated_mid_flow(pg_bot):
    bot = pg_bot
    await bot.say(OFFICER, "/定时 每天 08:30 公告 居民群 请关好门窗", WORK)
    assert "已建立计划" in bot.texts_to(WORK)[-1]
    assert await _terminate_connections(bot) >= 1
    await bot.say(OFFICER, "/定时 每天 09:30 公告 居民群 出门带好钥匙", WORK)
    confirmed = bot.texts_to(WORK)[-1]
    assert "已建立计划" in confirmed and "09:30" in confirmed
    await bot.say(OFFICER, "/计划", WORK)
    [line] = [ln for ln in bot.texts_to(WORK)[-1].splitlines() if "每天 09:30" in ln]
    assert "下次：2026-12-07 09:30" in line, line
    await _terminate_connections(bot)
    await bot.advance(timedelta(days=1, hours=2))  # both fire on Tuesday morning
    sent = bot.texts_to("幸福里居民群")
    assert any("请关好门窗" in t for t in sent) and any("出门带好钥匙" in t for t in sent)
    async with bot.app.sessions() as s:
        jobs = (await s.execute(select(ScheduledJob.id).where(ScheduledJob.kind == "push"))).scalars().all()
    assert len([j for j in jobs if j.startswith("push:")]) >= 2


async def test_a_push_now_and_its_summary_survive_a_terminated_connection(pg_bot):
    bot = pg_bot
    await _terminate_connections(bot)
    await bot.say(OFFICER, "/公告 今晚停电检修 居民群", WORK)
    await _terminate_connections(bot)
    await bot.advance(timedelta(minutes=30))
    assert any("今晚停电检修" in t for t in bot.texts_to("幸福里居民群"))
    officer = bot.texts_to(OFFICER) + bot.texts_to(WORK)
    assert any("推送" in t and ("完成" in t or "已发" in t or "成功" in t) for t in officer), officer[-3:]


def _end_connections_while_the_loop_waits(bot) -> None:
    """The server ends the bot's pooled connections (and waits, 5 s at most, until each has gone)
    from another thread, on purpose without await: the bot's loop does not run meanwhile, so the
    pool cannot notice before its next checkout."""
    url = bot.app.engine.url.render_as_string(hide_password=False)

    async def terminate(conn) -> None:
        await conn.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")

    outside = threading.Thread(target=_on_database, args=(url, terminate))
    outside.start()
    outside.join()


async def test_a_question_right_after_the_server_dropped_the_connection_is_answered(pg_bot, caplog):
    """The pool does not ping a connection it used a moment ago (storage.db). Here the server
    ends it in that moment, before the bot can notice (this loop is blocked meanwhile): the
    first statement fails, and the router handles the message again on a new connection."""
    bot = pg_bot
    await bot.say("王阿姨", "请问办理居住证需要带什么材料？", "幸福里居民群")
    _end_connections_while_the_loop_waits(bot)
    with caplog.at_level(logging.WARNING):
        await bot.say("陈大爷", "请问办理居住证需要带什么材料？", "幸福里居民群")
    answers = bot.texts_to("幸福里居民群")
    assert "租房合同" in answers[-1] and "租房合同" in answers[-2]
    assert not [t for t in answers if "系统刚才出了点问题" in t]
    assert "handling the message again" in caplog.text  # the path this test is for was taken
    async with bot.app.sessions() as s:
        assert len((await s.execute(select(Consultation.id))).all()) == 2


# ---- in-memory state follows the commit ----------------------------------------------------------

async def test_a_role_change_that_fails_to_commit_leaves_no_trace_in_memory(bot):
    directory = bot.app.directory
    with pytest.raises(RuntimeError):
        async with bot.app.sessions.begin() as session:
            await directory.save_person(session, Person("wx_wang", "王阿姨", "officer"), bot.clock.now())
            raise RuntimeError("the commit never happens")
    assert directory.role_of("wx_wang") == "resident"
    async with bot.app.sessions.begin() as session:
        await directory.save_person(session, Person("wx_wang", "王阿姨", "staff"), bot.clock.now())
    assert directory.role_of("wx_wang") == "staff"


# ---- names longer than any column, on both databases ---------------------------------------------

async def test_names_longer_than_the_columns_are_cut_the_same_on_both_databases(bot):
    long_name = "幸福里" + "很长的名字" * 60  # 303 characters: PostgreSQL refuses more than 128
    bot.names.update({"新邻居" * 50: "wx_new", "长" * 300: "wx_long"})  # (ids of a normal length)
    await bot.rename("幸福里居民群", long_name)
    await bot.friend("新邻居" * 50, "你好")
    await bot.advance(timedelta(minutes=5))
    await bot.say("长" * 300, "楼上邻居天天半夜装修吵得睡不着，我们吵起来了，请民警来调解", "幸福里3号楼群")
    async with bot.app.sessions() as s:
        room = (await s.execute(select(Room).where(Room.id == bot.room_id("幸福里居民群")))).scalar_one()
        friend = await s.get(Contact, (bot.app.name, "wx_new"))
    assert room.name == long_name[:128]
    assert friend is not None and friend.name == ("新邻居" * 50)[:128] and friend.is_friend
    assert bot.app.directory.group(bot.room_id("幸福里居民群")).category == "resident"
    assert not [r for r in bot.sent if "系统刚才出了点问题" in r.out.text]


# ---- one process per bot name ------------------------------------------------------------------

async def test_a_second_bot_with_the_same_name_on_the_same_database_does_not_start(bot, db_url):
    second = Harness(make_config(db_url), clock=FakeClock(MONDAY))
    with pytest.raises(AlreadyRunning) as refused:
        await second.start()
    assert f"pid {os.getpid()}" in str(refused.value) and "xingfuli" in str(refused.value)
    other = make_config(db_url, bot={**sample_raw()["bot"], "name": "hepingli"})
    neighbour = Harness(other, clock=FakeClock(MONDAY))
    await neighbour.start()  # another community's bot on the same database is fine
    await neighbour.stop()
    await bot.stop()
    await second.start()  # once the first has stopped, the next one starts
    await second.stop()


def _write_config(tmp_path, db_url: str, name: str) -> str:
    raw = sample_raw()
    raw["database"] = {"url": db_url}
    raw["data_dir"] = str(tmp_path / f"data-{name}")
    raw["bot"] = {**raw["bot"], "transport": "memory"}
    raw["wechat"] = {**raw.get("wechat", {}), "web_port": 0}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_two_processes_with_one_bot_name_the_second_exits_naming_the_first(tmp_path, db_url):
    """Real processes: SQLite's file lock, PostgreSQL's advisory lock (a district's database)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("JINGMIN_DATABASE_URL", None)
    first_cfg, second_cfg = _write_config(tmp_path, db_url, "a"), _write_config(tmp_path, db_url, "b")
    first = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--config", first_cfg], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = first.stdout.readline()  # "jingmin is running ..." once started
        assert "jingmin is running" in line, line
        second = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--config", second_cfg], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        errors = [ln for ln in second.stderr.splitlines() if ln.startswith("jingmin:")]
        assert len(errors) == 1 and f"pid {first.pid}" in errors[0] and "already running" in errors[0], second.stderr
        assert first.poll() is None  # the first one runs on, untouched
    finally:
        first.terminate()
        first.wait(timeout=30)



async def test_the_lock_is_taken_again_after_its_connection_was_terminated(pg_url, monkeypatch):
    db_url = pg_url
    monkeypatch.setattr("bot.instance.KEEP_EVERY", 0.05)
    first = Harness(make_config(db_url), clock=FakeClock(MONDAY))
    await first.start()
    try:
        held_by = first.app.instance._conn
        await _terminate_connections(first)
        for _ in range(100):  # the lock's connection is noticed dead and replaced
            await asyncio.sleep(0.05)
            if first.app.instance._conn not in (None, held_by):
                break
        second = Harness(make_config(db_url), clock=FakeClock(MONDAY))
        with pytest.raises(AlreadyRunning):
            await second.start()
    finally:
        await first.stop()


# ---- the scheduler under database faults ---------------------------------------------------------

async def test_a_job_due_while_a_handler_holds_the_sqlite_write_lock_waits_without_freezing_the_bot(tmp_path):
    from apscheduler.triggers.cron import CronTrigger

    from tests.test_scheduler import let_it_run, standalone

    clock = FakeClock(datetime(2026, 12, 7, 8, 59, tzinfo=SHANGHAI))
    engine, sessions, scheduler = await standalone(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", clock)
    runs, ticks = [], []
    scheduler.register("tick", lambda payload, due: asyncio.sleep(0, runs.append(due)))
    await scheduler.add("t", "tick", {}, CronTrigger(hour=9, minute=0, timezone=SHANGHAI))

    async def ticker():  # the rest of the bot: it must keep running meanwhile
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.02)

    beat = asyncio.create_task(ticker())
    async with sessions.begin() as holder:  # a resident's transaction holds the write lock ...
        await holder.execute(text("UPDATE scheduled_jobs SET grace_seconds = grace_seconds"))
        clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI))
        scheduler.wakeup()
        started = time.monotonic()
        await asyncio.sleep(1.0)  # ... for a second, while the job falls due
        assert runs == []
    waited = [b - a for a, b in zip(ticks, ticks[1:]) if a >= started]
    assert waited and max(waited) < 0.5, f"the event loop froze for {max(waited):.2f} s"
    await let_it_run(100)
    assert len(runs) == 1  # it ran once the lock was free
    beat.cancel()
    await scheduler.stop()
    await engine.dispose()


async def test_the_scheduler_loop_lives_through_an_error_and_still_fires_the_next_job(tmp_path, monkeypatch):
    from apscheduler.triggers.cron import CronTrigger

    from tests.test_scheduler import let_it_run, standalone

    monkeypatch.setattr("bot.scheduler.asyncio.sleep", _fast_sleep)  # (its one-second pause after an error)
    clock = FakeClock(datetime(2026, 12, 7, 8, 0, tzinfo=SHANGHAI))
    engine, sessions, scheduler = await standalone(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", clock)
    runs = []
    scheduler.register("tick", lambda payload, due: _sleep0(runs.append(due)))
    await scheduler.add("t", "tick", {}, CronTrigger(hour=9, minute=0, timezone=SHANGHAI))
    real_next_due, failing = scheduler.next_due, [True]

    def next_due_that_fails_once():
        if failing.pop() if failing else False:
            raise RuntimeError("a bug in the loop")
        return real_next_due()

    monkeypatch.setattr(scheduler, "next_due", next_due_that_fails_once)
    scheduler.wakeup()
    await let_it_run(20)
    clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI))  # nothing wakes it but the clock
    await let_it_run(50)
    assert len(runs) == 1
    await scheduler.stop()
    await engine.dispose()


_real_sleep = asyncio.sleep


async def _fast_sleep(seconds, result=None):
    return await _real_sleep(min(seconds, 0.01) if seconds < 30 else seconds, result)


async def _sleep0(_):
    await _real_sleep(0)


async def test_a_new_groups_first_question_right_after_the_server_dropped_the_connection_is_answered(pg_bot, caplog):
    """A group the bot has never seen is registered in a transaction of the router's own before
    the message is handled: that one too is tried again on a new connection."""
    bot = pg_bot
    bot.rooms["幸福里二期业主群"] = "room_erqi"  # not in config.yaml: the bot learns of it when it speaks
    await bot.say("王阿姨", "请问办理居住证需要带什么材料？", "幸福里居民群")
    _end_connections_while_the_loop_waits(bot)
    with caplog.at_level(logging.WARNING):
        await bot.say("陈大爷", "请问办理居住证需要带什么材料？", "幸福里二期业主群")
    assert "租房合同" in bot.texts_to("幸福里二期业主群")[-1]
    assert [r for r in caplog.records if r.getMessage() == "database fault; trying again"
            and getattr(r, "what", None) == "new group"]  # the path this test is for was taken
    assert bot.app.directory.group_named("幸福里二期业主群") is not None


async def test_a_newcomer_right_after_the_server_dropped_the_connection_is_welcomed_and_counted(pg_bot, caplog):
    """A member event is not delivered twice by the gateway: its transaction too is tried again
    on a new connection, or the newcomer would get no welcome and the week's count miss them."""
    bot = pg_bot
    await bot.say("王阿姨", "大家早上好", "幸福里居民群")
    _end_connections_while_the_loop_waits(bot)
    with caplog.at_level(logging.WARNING):
        await bot.join("幸福里居民群", ["小周"])
    assert [r for r in caplog.records if r.getMessage() == "database fault; trying again"
            and getattr(r, "what", None) == "joined event"]  # the path this test is for was taken
    await bot.advance(timedelta(minutes=2))
    assert any("欢迎 小周 加入本群" in t for t in bot.texts_to("幸福里居民群"))
    await bot.say(OFFICER, "/统计", WORK)
    assert "新入群1人" in bot.texts_to(WORK)[-1]
