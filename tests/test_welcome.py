"""Friend requests: accepted one at a time at a human pace, greeted with the menu, never lost.
Newcomers: joins within a minute share one welcome, even across a restart."""

from datetime import timedelta

from bot.harness import Harness
from tests.conftest import make_config, sample_raw


async def test_friend_requests_are_accepted_one_at_a_time_and_greeted(bot):
    for name in ("小赵", "小钱", "小孙"):
        await bot.friend(name, "我是5号楼的")
    # The first at once; the others wait for their turn (30-45 s apart), not all in one go.
    assert bot.transport.accepted_friends == [bot.contact_id("小赵")]
    [greeting] = bot.take()
    assert greeting.out.contact_id == bot.contact_id("小赵") and "很高兴认识您" in greeting.out.text
    await bot.advance(timedelta(seconds=29))
    assert len(bot.transport.accepted_friends) == 1
    await bot.advance(timedelta(seconds=17))
    assert len(bot.transport.accepted_friends) == 2
    await bot.advance(timedelta(minutes=2))
    assert bot.transport.accepted_friends == [bot.contact_id(n) for n in ("小赵", "小钱", "小孙")]
    assert sorted(m.out.contact_id for m in bot.take()) == sorted(bot.contact_id(n) for n in ("小钱", "小孙"))


async def test_a_queued_friend_request_survives_a_restart_and_keeps_its_turn(db_url):
    async with Harness(make_config(db_url)) as bot:
        await bot.friend("小赵")
        await bot.friend("小钱")
        await bot.restart()
        await bot.friend("小孙")  # after the restart: still behind 小钱, not at once
        assert bot.transport.accepted_friends == [bot.contact_id("小赵")]
        await bot.advance(timedelta(seconds=50))
        assert bot.transport.accepted_friends == [bot.contact_id("小赵"), bot.contact_id("小钱")]
        await bot.advance(timedelta(minutes=1))
        assert bot.transport.accepted_friends == [bot.contact_id(n) for n in ("小赵", "小钱", "小孙")]
        greeted = [m.out.contact_id for m in bot.take()]
        assert sorted(greeted) == sorted(bot.contact_id(n) for n in ("小赵", "小钱", "小孙"))


async def test_joins_within_a_minute_get_one_welcome_even_across_a_restart(bot):
    await bot.join("幸福里居民群", ["小李"], inviter="王阿姨")
    await bot.advance(timedelta(seconds=20))
    await bot.restart()
    await bot.join("幸福里居民群", ["老吴"], inviter="王阿姨")
    assert bot.take() == []
    await bot.advance(timedelta(seconds=45))
    [welcome] = bot.take()
    assert welcome.out.room_id == bot.room_id("幸福里居民群")
    assert "欢迎 小李、老吴 加入本群" in welcome.out.text
    await bot.advance(timedelta(minutes=5))
    assert bot.take() == []


async def test_friend_requests_can_be_left_to_a_person(db_url):
    wechat = {**sample_raw()["wechat"], "accept_friends": False}
    async with Harness(make_config(db_url, wechat=wechat)) as bot:
        await bot.friend("小赵")
        await bot.advance(timedelta(minutes=5))
        assert bot.transport.accepted_friends == [] and bot.take() == []


async def test_a_friend_request_the_gateway_refused_is_tried_again(bot):
    bot.transport.accept_failures_to_inject = 1  # the gateway is down at the first try
    await bot.friend("小赵")
    assert bot.transport.accepted_friends == [] and bot.take() == []
    await bot.advance(timedelta(minutes=6))
    assert bot.transport.accepted_friends == [bot.contact_id("小赵")]
    [greeting] = bot.take()
    assert greeting.out.contact_id == bot.contact_id("小赵")
