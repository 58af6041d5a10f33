"""The scheduler facade: jobs fire at their due time on the moved clock, once, across restarts."""

import asyncio
from datetime import datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.plugins import load_all
from bot.app import App
from bot.clock import SHANGHAI, FakeClock
from bot.harness import Harness
from bot.plugin import Plugin
from tests.conftest import make_config

fired: list[tuple[str, datetime, datetime]] = []
ticker = Plugin("ticker")


@ticker.job("tick")
async def tick(app, payload, due):
    fired.append((payload["label"], due, app.clock.now()))


def ticker_app(**kwargs):
    return App(plugins=[*load_all(), ticker], **kwargs)


@pytest.fixture
def harness(db_url):
    fired.clear()
    return Harness(make_config(db_url), app_factory=ticker_app,
                   clock=FakeClock(datetime(2026, 12, 7, 8, 0, tzinfo=SHANGHAI)))


def daily(hour: int) -> CronTrigger:
    return CronTrigger(hour=hour, minute=0, timezone=SHANGHAI)


async def test_a_daily_job_fires_at_its_time_each_day(harness):
    async with harness:
        await harness.app.scheduler.add("t:morning", "tick", {"label": "早"}, daily(9))
        await harness.advance(timedelta(days=3))
    assert [(label, due.astimezone(SHANGHAI).strftime("%m-%d %H:%M")) for label, due, _ in fired] == [
        ("早", "12-07 09:00"), ("早", "12-08 09:00"), ("早", "12-09 09:00")]
    assert all(now == due for _, due, now in fired)  # fired at its own time, not at the end


async def test_jobs_between_two_moments_fire_in_order(harness):
    async with harness:
        await harness.app.scheduler.add("t:b", "tick", {"label": "b"}, daily(11))
        await harness.app.scheduler.add("t:a", "tick", {"label": "a"}, daily(10))
        await harness.app.scheduler.add_once("t:once", "tick", {"label": "once"},
                                       datetime(2026, 12, 7, 10, 30, tzinfo=SHANGHAI))
        await harness.advance(timedelta(hours=4))
    assert [label for label, _, _ in fired] == ["a", "once", "b"]


async def test_restart_does_not_duplicate_jobs(harness):
    async with harness:
        await harness.app.scheduler.add("t:x", "tick", {"label": "x"}, daily(9))
    async with harness:
        await harness.app.scheduler.add("t:x", "tick", {"label": "x"}, daily(9))  # re-added at start
        assert harness.app.scheduler.job_ids("t:") == ["t:x"]
        await harness.advance(timedelta(hours=2))
    assert [label for label, _, _ in fired] == ["x"]


async def test_missed_run_within_grace_fires_once_beyond_grace_is_skipped(harness):
    async with harness:
        await harness.app.scheduler.add("t:g", "tick", {"label": "g"}, daily(9), grace=timedelta(hours=1))
    harness.clock.set(datetime(2026, 12, 7, 9, 40, tzinfo=SHANGHAI))  # the bot was down at 09:00
    async with harness:
        await harness.settle()
    assert [(label, now - due) for label, due, now in fired] == [("g", timedelta(minutes=40))]
    fired.clear()
    harness.clock.set(datetime(2026, 12, 8, 11, 0, tzinfo=SHANGHAI))  # down for two hours past 09:00
    async with harness:
        await harness.settle()
        assert fired == []
        await harness.advance(timedelta(days=1))
    assert [due.astimezone(SHANGHAI).strftime("%m-%d %H:%M") for _, due, _ in fired] == ["12-09 09:00"]


async def test_pause_resume_remove(harness):
    async with harness:
        s = harness.app.scheduler
        await s.add("t:p", "tick", {"label": "p"}, daily(9))
        assert await s.pause("t:p") and s.next_run("t:p") is None
        await harness.advance(timedelta(days=1))
        assert fired == []
        assert await s.resume("t:p") and s.next_run("t:p") is not None
        assert await s.remove("t:p") and not await s.remove("t:p")


async def test_two_bots_never_share_a_job_table(db_url):
    fired.clear()
    one = Harness(make_config(db_url), app_factory=ticker_app)
    config = make_config(db_url)
    raw_two = config.model_dump()
    raw_two["bot"]["name"] = "second"
    two = Harness(type(config).model_validate(raw_two), app_factory=ticker_app, clock=one.clock)
    async with one, two:
        await one.app.scheduler.add("t:same", "tick", {"label": "one"}, daily(9))
        await two.app.scheduler.add("t:same", "tick", {"label": "two"}, daily(10))
        assert one.app.scheduler.next_run("t:same").hour == 9
        assert two.app.scheduler.next_run("t:same").hour == 10


async def test_a_job_added_in_a_rolled_back_transaction_never_runs(harness):
    async with harness:
        app = harness.app
        with pytest.raises(RuntimeError):
            async with app.sessions.begin() as session:
                await app.scheduler.add("t:r", "tick", {"label": "r"}, daily(9), session=session)
                raise RuntimeError("the handler failed after adding its job")
        assert app.scheduler.job_ids("t:") == []
        async with app.sessions.begin() as session:
            await app.scheduler.add("t:c", "tick", {"label": "c"}, daily(9), session=session)
            assert app.scheduler.job_ids("t:") == []  # not before the commit
        assert app.scheduler.job_ids("t:") == ["t:c"]
        await harness.advance(timedelta(hours=2))
    assert [label for label, _, _ in fired] == ["c"]


async def test_re_adding_the_same_job_at_start_keeps_the_run_it_missed(harness):
    """A plugin re-adds its jobs at every start; a run owed from while the bot was down is kept."""
    async with harness:
        await harness.app.scheduler.add("t:k", "tick", {"label": "k"}, daily(9), grace=timedelta(hours=3))
    harness.clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI))
    async with harness:
        await harness.app.scheduler.add("t:k", "tick", {"label": "k"}, daily(9), grace=timedelta(hours=3))
        await harness.settle()
    assert [(label, due.hour) for label, due, _ in fired] == [("k", 9)]


@pytest.mark.blank_database
async def test_jobs_kept_by_the_old_apscheduler_store_are_carried_over(db_url):
    """An upgrade from the APScheduler job store loses no queued job (a friend waiting to be accepted)."""
    import pickle

    from sqlalchemy import text

    from storage import db

    due = datetime(2026, 12, 7, 8, 30, tzinfo=SHANGHAI)
    state = {"version": 1, "id": "friend:r1", "func": "bot.scheduler:job_entry", "executor": "default",
             "trigger": __import__("apscheduler.triggers.date", fromlist=["DateTrigger"]).DateTrigger(run_date=due),
             "args": ("tick", {"label": "old"}), "kwargs": {}, "name": "tick", "misfire_grace_time": 7200,
             "coalesce": True, "max_instances": 1, "next_run_time": due}
    engine = db.create_engine(db_url)
    await db.upgrade(engine, "0008_custom_notices")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE apscheduler_jobs_xingfuli "
                                "(id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT, job_state BYTEA)"
                                .replace("BYTEA", "BYTEA" if "postgresql" in db_url else "BLOB")))
        await conn.execute(text("INSERT INTO apscheduler_jobs_xingfuli VALUES (:id, :t, :s)"),
                           {"id": "friend:r1", "t": due.timestamp(), "s": pickle.dumps(state)})
    await engine.dispose()
    fired.clear()
    async with Harness(make_config(db_url), app_factory=ticker_app) as bot:
        assert bot.app.scheduler.next_run("friend:r1") == due
        await bot.advance(timedelta(hours=1))
    assert [(label, d) for label, d, _ in fired] == [("old", due)]


# ---- races between a run and a handler's transaction -------------------------------------------

async def standalone(db_url, clock):
    from bot.scheduler import Scheduler
    from storage import db

    engine = db.create_engine(db_url)
    await db.upgrade(engine)
    sessions = db.session_factory(engine)
    scheduler = Scheduler(clock, sessions, "race")
    await scheduler.load()
    await scheduler.start()
    return engine, sessions, scheduler


async def let_it_run(steps: int = 60) -> None:
    for _ in range(steps):
        await asyncio.sleep(0.01)


async def test_a_job_removed_while_its_run_waits_for_the_database_does_not_run(db_url):
    """A booking cancelled (its reminder removed) in a transaction that commits as the reminder falls due."""
    clock = FakeClock(datetime(2026, 12, 7, 8, 0, tzinfo=SHANGHAI))
    engine, sessions, scheduler = await standalone(db_url, clock)
    runs = []

    async def remind(payload, due):
        runs.append(payload)

    scheduler.register("remind", remind)
    due = datetime(2026, 12, 7, 8, 1, tzinfo=SHANGHAI)
    await scheduler.add_once("r", "remind", {"booking": 1}, due)
    async with sessions.begin() as session:
        await scheduler.remove("r", session=session)
        await session.flush()
        clock.set(due)
        scheduler.wakeup()
        await asyncio.sleep(0.05)
    await let_it_run()
    await scheduler.stop()
    await engine.dispose()
    assert runs == [] and scheduler.job_ids() == []


async def test_a_welcome_merged_as_it_falls_due_is_not_lost(db_url):
    """Same job, same time, one more name, committed while the old one fires: the names are welcomed."""
    clock = FakeClock(datetime(2026, 12, 7, 8, 0, tzinfo=SHANGHAI))
    engine, sessions, scheduler = await standalone(db_url, clock)
    runs = []

    async def welcome(payload, due):
        runs.append(payload["names"])

    scheduler.register("welcome", welcome)
    due = datetime(2026, 12, 7, 8, 1, tzinfo=SHANGHAI)
    await scheduler.add_once("w", "welcome", {"names": ["A"]}, due)
    async with sessions.begin() as session:
        await scheduler.add_once("w", "welcome", {"names": ["A", "B"]}, due, session=session)
        await session.flush()
        clock.set(due)
        scheduler.wakeup()
        await asyncio.sleep(0.05)
    await let_it_run()
    await scheduler.stop()
    await engine.dispose()
    assert runs[-1] == ["A", "B"] and scheduler.job_ids() == []


async def test_a_database_outage_does_not_make_the_scheduler_spin(tmp_path, caplog):
    clock = FakeClock(datetime(2026, 12, 7, 8, 0, tzinfo=SHANGHAI))
    engine, sessions, scheduler = await standalone(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", clock)
    scheduler.register("tick", lambda payload, due: asyncio.sleep(0))
    await scheduler.add("t", "tick", {}, daily(9))
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DROP TABLE scheduled_jobs")  # every write now fails
    clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI))
    scheduler.wakeup()
    await let_it_run(50)
    failures = [r for r in caplog.records if "bookkeeping failed" in r.getMessage()]
    assert len(failures) == 1  # held back 30 s, not retried in a tight loop
    assert scheduler.next_due() == datetime(2026, 12, 7, 9, 0, 30, tzinfo=SHANGHAI)
    await scheduler.stop()
    await engine.dispose()
