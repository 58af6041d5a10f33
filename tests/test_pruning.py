"""Storage that stops growing: the nightly prune deletes old message ids, finished outbox rows and
dialog leftovers, and keeps what reports and redelivery checks still read."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import SHANGHAI, FakeClock
from bot import pruning
from bot.config import ConfigError
from bot.harness import Harness
from storage import stats
from storage.models import DialogState, OutboxMessage, ProcessedMessage
from bot.config import parse_config
from tests.conftest import make_config, sample_raw

START = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday


async def count(bot, model, *where) -> int:
    async with bot.app.sessions() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


@pytest.fixture
async def bot(db_url):
    # Nobody books here: no hour-before booking reminders running empty every slot of every day.
    harness = Harness(make_config(db_url, appointments={"reminder_before_minutes": 0}), clock=FakeClock(START))
    await harness.start()
    yield harness
    await harness.stop()


async def test_the_nightly_prune_keeps_what_reports_need_and_drops_the_rest(bot):
    # Day 0: chatter, an answered question and a dialog left half-way.
    for i in range(5):
        await bot.say(f"居民{i}", f"早上好{i}", room="幸福里居民群", message_id=f"old-{i}")
    await bot.say("王阿姨", "请问办理居住证需要带什么材料？", room="幸福里居民群", message_id="old-q")
    await bot.say("小周", "预约")  # starts the booking dialog, then silence
    assert await count(bot, DialogState) == 1
    assert await count(bot, ProcessedMessage, ProcessedMessage.id.like("old-%")) == 6

    await bot.advance(timedelta(days=10))  # ten nightly runs
    assert await count(bot, ProcessedMessage, ProcessedMessage.id.like("old-%")) == 0  # > 7 days
    assert await count(bot, DialogState) == 0  # timed out days ago
    assert await count(bot, OutboxMessage) > 0  # sent rows: kept 30 days
    await bot.say("陈大爷", "今天天气不错", room="幸福里居民群", message_id="new-1")
    assert await count(bot, ProcessedMessage, ProcessedMessage.id == "new-1") == 1
    people_before = await _people_in_november(bot)

    await bot.advance(timedelta(days=25))
    old_rows = await count(bot, OutboxMessage, OutboxMessage.created_at < bot.clock.now() - timedelta(days=30))
    assert old_rows == 0
    # 人次 of November is what it was: active senders are kept 400 days.
    # (7: the six who spoke in the group and 陈大爷; 小周's private 预约 is no group talk.)
    assert await _people_in_november(bot) == people_before == 7


async def _people_in_november(bot) -> int:
    async with bot.app.sessions() as s:
        return await stats.active_people(s, bot.app.name, START.date(), START.date() + timedelta(days=27))


async def test_pending_rows_are_never_pruned(bot):
    bot.app.outbox.pause()
    await bot.say("王阿姨", "请问办理居住证需要带什么材料？", room="幸福里居民群", settle=False)
    await pruning.prune(bot.app, bot.clock.now() + timedelta(days=365))
    assert await count(bot, OutboxMessage, OutboxMessage.status == "pending") == 1


def test_retention_below_what_start_up_reads_is_refused_naming_the_key():
    raw = sample_raw()
    raw["retention"] = {"processed_ids_days": 1}
    with pytest.raises(ConfigError, match=r"retention\.processed_ids_days"):
        parse_config(raw, env={})
