"""The write-behind counts: flat in the number of groups, one flush at a time, and no message that
can stop them from being written."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from bot.clock import SHANGHAI, FakeClock
from bot.harness import Harness
from bot.messages import IncomingMessage
from storage import counters
from storage.models import ActiveSender, Counter, ProcessedMessage, Room
from tests.conftest import make_config

START = datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)


def town(db_url, groups: int):
    rooms = [{"name": f"居民{i}群", "category": "resident"} for i in range(groups)]
    raw_bot = {"name": f"town{groups}", "transport": "memory"}
    return make_config(db_url, bot=raw_bot, groups=rooms, contacts=[], pushes={"schedules": []})


@pytest.fixture
async def bots(db_url):
    started: list[Harness] = []

    async def make(groups: int = 4) -> Harness:
        harness = Harness(town(db_url, groups), clock=FakeClock(START))
        await harness.start()
        started.append(harness)
        return harness

    yield make
    for h in started:
        await h.stop()


def chatter(bot: Harness, n: int, rooms: int, prefix: str = "c") -> list[IncomingMessage]:
    names = list(bot.rooms)[:rooms]
    return [IncomingMessage(id=f"{prefix}{i}", sender_id=f"wx_r{i % 37}", sender_name="居民", text=f"早上好{prefix}{i}",
                            at=bot.clock.now(), room_id=bot.rooms[names[i % rooms]], room_name=names[i % rooms])
            for i in range(n)]


def statements(app):
    """A function giving the statements the tally has run so far (its own SQLite connection's,
    or the engine's on PostgreSQL)."""
    direct = app.tally._direct
    if direct is not None:
        return lambda: direct.statements
    seen: list[str] = []
    event.listen(app.engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: seen.append(statement.split()[0].upper()))
    return lambda: len([s for s in seen if s in ("INSERT", "UPDATE")])


async def messages_counted(bot: Harness) -> int:
    async with bot.app.sessions() as s:
        return (await s.execute(select(func.coalesce(func.sum(Counter.value), 0)).where(
            Counter.bot == bot.app.name, Counter.metric == "messages",
            Counter.hour == counters.WHOLE_DAY))).scalar_one()


async def test_a_flush_costs_the_same_statements_for_4_groups_and_for_300(bots):
    small, large = await bots(4), await bots(300)
    per_flush = []
    for bot, rooms in ((small, 4), (large, 300)):
        so_far = statements(bot.app)
        for msg in chatter(bot, 1200, rooms):
            await bot.app.router.handle_event(msg)
        before = so_far()
        await bot.app.tally.flush()
        per_flush.append(so_far() - before)
        assert await messages_counted(bot) == 1200
        async with bot.app.sessions() as s:
            touched = (await s.execute(select(func.count()).select_from(Room).where(
                Room.bot == bot.app.name, Room.last_active_at == bot.clock.now()))).scalar_one()
        assert touched == rooms
    # Bounded whatever the number of groups (PostgreSQL may cut a long insert into a second
    # statement by its parameter limit, never one per group).
    assert max(per_flush) <= 6, per_flush


async def test_a_burst_of_chatter_keeps_one_flush_pending(bots):
    bot = await bots(4)
    tally = bot.app.tally
    tally.max_pending = 50

    def flushes() -> int:
        return len([t for t in asyncio.all_tasks() if "Tally.flush" in repr(t.get_coro())])

    most = 0
    async with tally._flush_lock:  # a slow flush is under way
        for msg in chatter(bot, 3000, 4):
            await bot.app.router.handle_event(msg)
            most = max(most, flushes())
    await asyncio.sleep(0.05)
    await tally.flush()
    assert most <= 1
    assert await messages_counted(bot) == 3000


async def test_a_message_that_cannot_be_stored_is_dropped_and_logged_and_the_rest_is_written(bots, caplog):
    bot = await bots(4)
    caplog.set_level(logging.ERROR, logger="bot.tally")
    # The router's door (bot/edge.py) already turns such an event away; the tally must hold even
    # for an item that got past it, so it is handed one directly.
    room = bot.room_id("居民0群")
    bad = IncomingMessage(id="bad\udc00id", sender_id="wx_bad\ud800", sender_name="居民", text="大家好",
                          at=bot.app.clock.now(), room_id=room, room_name="居民0群")
    bot.app.tally.message(bad, bot.app.directory.group(room))
    bot.app.tally.processed(bad)
    for i in range(30):
        await bot.say(f"居民{i}", f"今天天气不错{i}", room="居民1群", settle=False)
    await bot.app.tally.flush()
    assert await messages_counted(bot) == 31  # the odd one's count too: only its id is refused
    async with bot.app.sessions() as s:
        ids = set((await s.execute(select(ProcessedMessage.id))).scalars())
        senders = (await s.execute(select(func.count()).select_from(ActiveSender))).scalar_one()
    assert len(ids) == 30 and "bad\udc00id" not in ids
    assert senders == 31
    [dropped] = [r for r in caplog.records if r.getMessage() == "a count could not be written and was dropped"]
    assert dropped.item == "processed"
    assert bot.app.tally.dropped == 1
    # Later flushes are not poisoned.
    await bot.say("王阿姨", "收到", room="居民2群")
    assert await messages_counted(bot) == 32


async def test_counts_wait_while_the_database_is_away_within_a_bounded_buffer(bots, monkeypatch):
    bot = await bots(4)
    tally = bot.app.tally
    real = tally._write
    down = True

    async def write(batch):
        if down:
            raise OperationalError("INSERT INTO counters", {}, Exception("database is locked"))
        await real(batch)

    monkeypatch.setattr(tally, "_write", write)
    tally.max_buffer = 500
    for msg in chatter(bot, 200, 4, prefix="a"):
        await bot.app.router.handle_event(msg)
    with pytest.raises(OperationalError):
        await tally.flush()
    assert 0 < tally.buffered <= 500
    for msg in chatter(bot, 2000, 4, prefix="b"):
        await bot.app.router.handle_event(msg)
    with pytest.raises(OperationalError):
        await tally.flush()
    assert tally.buffered <= 500  # the ids of chatter went first; counts kept
    down = False
    await tally.flush()
    assert tally.buffered == 0
    assert await messages_counted(bot) == 2200
