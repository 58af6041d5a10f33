"""What people wait for comes first: a resident's answer goes ahead of a push to many groups,
a busy group gets one answer naming every asker, and a full group does not make a friend wait."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import SHANGHAI, FakeClock
from bot.harness import Harness
from bot.messages import Outgoing
from storage.models import OutboxMessage
from tests.conftest import make_config

OFFICER = "张警官"
QUESTION = "请问办理居住证需要带什么材料？"


def community(db_url, groups: int = 40, **extra):
    rooms = [{"name": f"居民{i}群", "category": "resident"} for i in range(1, groups + 1)]
    rooms.append({"name": "警务工作群", "category": "work"})
    names = [r["name"] for r in rooms]
    contacts = [{"name": OFFICER, "id": "wx_zhang", "role": "officer", "rooms": names},
                {"name": "王阿姨", "id": "wx_wang", "rooms": names[:1]},
                {"name": "陈大爷", "id": "wx_chen", "rooms": names[:1], "friend": False}]
    return make_config(db_url, groups=rooms, contacts=contacts, pushes={"schedules": []}, **extra)


@pytest.fixture
async def town(db_url):
    harness = Harness(community(db_url), clock=FakeClock(datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)))
    await harness.start()
    yield harness
    await harness.stop()


def answers(records, room_id):
    return [r for r in records if r.out.room_id == room_id and "租房合同" in r.out.text]


async def test_a_question_during_a_push_to_many_groups_is_answered_before_the_rest_of_it(town):
    bot = town
    await bot.say(OFFICER, "/公告 今天下午2点到5点停水，请提前储水。 全部", room="警务工作群", settle=False)
    await bot.advance(timedelta(seconds=30))
    pushed_before = len([r for r in bot.sent if r.out.text.startswith("【社区公告】")])
    assert 5 <= pushed_before < 30  # the push is under way, paced

    asked_at = bot.clock.now()
    await bot.say("王阿姨", QUESTION, room="居民1群", settle=False)
    await bot.advance(timedelta(seconds=5))
    [answer] = answers(bot.sent, bot.room_id("居民1群"))
    assert answer.at - asked_at <= timedelta(seconds=3)  # at most one pace gap
    assert answer.out.mention_ids == ("wx_wang",)

    await bot.advance(timedelta(minutes=5))
    pushes = [r for r in bot.sent if r.out.text.startswith("【社区公告】")]
    assert len(pushes) == 41  # the push itself is not lost or doubled
    assert answer.at < pushes[-1].at and len([p for p in pushes if p.at > answer.at]) >= 5
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(bot.sent, bot.sent[1:]) if b.at > a.at]
    assert min(gaps) >= 2.0  # pacing is as it was


async def test_many_asking_the_same_in_one_group_get_one_answer_naming_them_all(town):
    bot = town
    askers = [f"居民{i}" for i in range(24)]
    asked = {}
    for name in askers:
        asked[bot.contact_id(name)] = bot.clock.now()
        await bot.say(name, QUESTION, room="居民1群", settle=False)
        await bot.advance(timedelta(seconds=1))
    await bot.advance(timedelta(minutes=2))
    sent = answers(bot.sent, bot.room_id("居民1群"))
    assert len(sent) <= 3, [len(r.out.mention_ids) for r in sent]
    answered = {m: r.at for r in sent for m in r.out.mention_ids}
    assert set(answered) == set(asked)  # everyone is @-mentioned once
    assert sum(len(r.out.mention_ids) for r in sent) == 24
    assert max(answered[m] - asked[m] for m in asked) <= timedelta(seconds=30)
    async with bot.app.sessions() as s:
        statuses = (await s.execute(select(OutboxMessage.status).where(
            OutboxMessage.room_id == bot.room_id("居民1群")))).scalars().all()
    assert set(statuses) == {"sent", "merged"}


async def fill_cap(bot, room: str) -> None:
    async with bot.app.sessions.begin() as session:
        for i in range(20):
            await bot.app.outbox.enqueue(session, Outgoing(bot.room_id(room), None, f"通知{i}"), source="push")
    bot.app.outbox.wake()
    await bot.advance(timedelta(minutes=2))
    assert len([r for r in bot.take() if r.out.text.startswith("通知")]) == 20


async def test_a_full_group_answers_a_friend_privately_and_others_after_the_hour(town):
    bot = town
    await fill_cap(bot, "居民1群")
    await bot.say("王阿姨", QUESTION, room="居民1群", settle=False)  # the bot's friend
    await bot.say("陈大爷", "警务室啥时候上班啊", room="居民1群", settle=False)  # not a friend
    await bot.advance(timedelta(seconds=10))
    sent = bot.take()
    [private] = bot.texts_to("王阿姨", sent)
    assert private.startswith("群里消息较多，私聊回复您") and "租房合同" in private
    assert bot.texts_to("居民1群", sent) == []
    await bot.advance(timedelta(hours=1))
    [later] = [r for r in bot.take() if r.out.room_id == bot.room_id("居民1群")]
    assert "9:00" in later.out.text and later.out.mention_ids == ("wx_chen",)


async def test_an_emergency_in_a_full_group_is_answered_at_once(town):
    bot = town
    await fill_cap(bot, "居民1群")
    asked = bot.clock.now()
    await bot.say("陈大爷", "救命啊楼下着火了", room="居民1群", settle=False)
    await bot.advance(timedelta(seconds=1))
    urgent = [r for r in bot.take() if r.out.room_id == bot.room_id("居民1群")]
    assert urgent and "119" in urgent[0].out.text and urgent[0].at - asked < timedelta(seconds=1)


async def test_an_officer_notice_goes_after_the_reply_and_ahead_of_the_rest_of_a_push(town):
    bot = town
    await bot.say(OFFICER, "/公告 明早8点小区停水，请提前储水。 全部", room="警务工作群", settle=False)
    await bot.advance(timedelta(seconds=20))
    await bot.say("王阿姨", "建议：小区门口加个路灯", settle=False)  # privately
    await bot.advance(timedelta(seconds=10))
    sent = bot.sent
    thanks = next(i for i, r in enumerate(sent) if r.out.contact_id == "wx_wang")
    notice = next(i for i, r in enumerate(sent) if r.out.contact_id == "wx_zhang" and "居民建议" in r.out.text)
    assert thanks < notice  # the resident hears back first, then the officer is told
    await bot.advance(timedelta(minutes=5))
    later = [r for r in bot.sent[notice:] if r.out.text.startswith("【社区公告】")]
    assert len(later) >= 20  # the rest of the push came after both
