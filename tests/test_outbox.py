"""The outbox: paced, capped per group, emergencies first, retried, and exactly once across crashes."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.harness import Harness
from bot.messages import Outgoing
from bot.outbox import EMERGENCY, split_text
from storage.models import OutboxMessage
from tests.conftest import make_config


async def enqueue(bot, *outs, **kwargs):
    async with bot.app.sessions.begin() as session:
        for out in outs:
            await bot.app.outbox.enqueue(session, out, **kwargs)
    bot.app.outbox.wake()


def to_room(bot, name, text):
    return Outgoing(bot.room_id(name), None, text)


async def rows(bot):
    async with bot.app.sessions() as s:
        return (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()


async def test_messages_are_paced_at_least_two_seconds_apart(bot):
    await enqueue(bot, *[to_room(bot, "幸福里居民群", f"通知{i}") for i in range(5)])
    await bot.settle()
    sent = bot.take()
    assert [r.out.text for r in sent] == [f"通知{i}" for i in range(5)]
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(sent, sent[1:])]
    assert all(2.0 <= g <= 3.0 for g in gaps), gaps


async def test_a_group_gets_at_most_twenty_an_hour_and_other_groups_are_not_held_up(bot):
    await enqueue(bot, *[to_room(bot, "幸福里居民群", f"居民{i}") for i in range(25)])
    await enqueue(bot, to_room(bot, "幸福里3号楼群", "楼栋通知"))
    await bot.advance(timedelta(minutes=30))
    sent = [r for r in bot.take() if r.out.text.startswith(("居民", "楼栋"))]  # not the scheduled pushes
    assert len([r for r in sent if r.out.room_id == bot.room_id("幸福里居民群")]) == 20
    assert "楼栋通知" in [r.out.text for r in sent]
    await bot.advance(timedelta(minutes=40))
    late = [r for r in bot.take() if r.out.text.startswith("居民")]
    assert [r.out.text for r in late] == [f"居民{i}" for i in range(20, 25)]
    assert all(r.at >= sent[0].at + timedelta(hours=1) for r in late)


async def test_emergency_goes_ahead_of_the_queue_and_past_the_cap(bot):
    await enqueue(bot, *[to_room(bot, "幸福里居民群", f"居民{i}") for i in range(22)])
    await bot.advance(timedelta(minutes=5))
    bot.take()
    await enqueue(bot, to_room(bot, "幸福里居民群", "请立即拨打119"), priority=EMERGENCY)
    await bot.settle()
    [urgent] = bot.take()
    assert urgent.out.text == "请立即拨打119"


async def test_long_text_is_split_at_a_safe_length(bot):
    long = "。".join(f"第{i}条注意事项，请大家留意" for i in range(300))
    await enqueue(bot, Outgoing(None, "wx_wang", long))
    await bot.settle()
    pieces = [r.out.text for r in bot.take()]
    assert len(pieces) > 1 and all(len(p) <= 1500 for p in pieces)
    assert "".join(pieces).replace("\n", "") == long


def test_split_text_prefers_line_breaks():
    text = "\n".join("一" * 40 for _ in range(10))
    assert all(len(p) <= 100 and set(p) == {"一", "\n"} or set(p) == {"一"} for p in split_text(text, 100))


async def test_failed_sends_are_retried_then_kept_as_failed_and_reported(bot):
    bot.transport.failures_to_inject = 2
    await enqueue(bot, to_room(bot, "幸福里居民群", "重要通知"))
    await bot.advance(timedelta(minutes=2))
    assert [r.out.text for r in bot.take()] == ["重要通知"]
    bot.transport.failures_to_inject = 5  # max_attempts: every try of the next message fails
    await enqueue(bot, to_room(bot, "幸福里居民群", "发不出去的通知"))
    await bot.advance(timedelta(hours=1))
    [failed] = [r for r in await rows(bot) if r.body == "发不出去的通知"]
    assert (failed.status, failed.attempts) == ("failed", 5)
    report = bot.texts_to("张警官")
    assert report and "多次发送失败" in report[-1] and "幸福里居民群" in report[-1]


async def test_deduplicated_enqueue_adds_nothing_the_second_time(bot):
    await enqueue(bot, to_room(bot, "幸福里居民群", "本周反诈提醒"), dedup_key="push:w1:r1")
    await enqueue(bot, to_room(bot, "幸福里居民群", "本周反诈提醒"), dedup_key="push:w1:r1")
    await bot.settle()
    assert len(bot.take()) == 1


async def test_crash_between_commit_and_send_sends_exactly_once_after_restart(db_url):
    harness = Harness(make_config(db_url))
    await harness.start()
    harness.app.outbox.pause()  # the bot "dies" after committing, before the sender runs
    await enqueue(harness, *[to_room(harness, "幸福里居民群", f"消息{i}") for i in range(3)])
    await harness.stop()
    assert harness.sent == []
    await harness.start()
    await harness.settle()
    await harness.restart()
    await harness.advance(timedelta(minutes=5))
    assert [r.out.text for r in harness.sent] == ["消息0", "消息1", "消息2"]
    await harness.stop()


async def test_a_row_caught_mid_send_is_not_resent(db_url):
    harness = Harness(make_config(db_url))
    await harness.start()
    harness.app.outbox.pause()
    await enqueue(harness, to_room(harness, "幸福里居民群", "也许已发出"))
    async with harness.app.sessions.begin() as s:
        row = (await s.execute(select(OutboxMessage))).scalar_one()
        row.status = "sending"  # the process died inside transport.send()
    await harness.restart()
    await harness.advance(timedelta(minutes=5))
    assert harness.sent == []
    [row] = await rows(harness)
    assert row.status == "uncertain"
    await harness.stop()


@pytest.mark.parametrize("disconnected", [True])
async def test_nothing_is_sent_while_the_transport_is_down(bot, disconnected):
    sink = bot.transport._sink
    await bot.transport.stop()
    await enqueue(bot, to_room(bot, "幸福里居民群", "等待重连"))
    await bot.advance(timedelta(seconds=30))
    assert bot.take() == []
    await bot.transport.start(sink)
    await bot.advance(timedelta(seconds=5))
    assert [r.out.text for r in bot.take()] == ["等待重连"]
