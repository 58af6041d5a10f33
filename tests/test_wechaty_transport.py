"""The bot over the real wechaty SDK and real gRPC, against the simulated WeChat on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from tests.sdk_fixtures import live_bot, sdk_cache_dir  # noqa: F401 - fixture


async def test_room_command_gets_a_reply_in_the_room(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'j.db'}"
    async with live_bot(url, tmp_path) as bot:
        bot.say("张警官", "/帮助", room="幸福里居民群")
        [reply] = await bot.wait_sent(1)
        assert reply.room_id == bot.room("幸福里居民群")
        assert reply.mention_ids == (bot.contact("张警官"),)
        assert reply.text.startswith("@张警官\u2005")
        assert "警民群助手" in reply.text and "/帮助" in reply.text


def _db(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'j.db'}"


async def test_private_message_gets_a_private_reply(tmp_path):
    async with live_bot(_db(tmp_path), tmp_path) as bot:
        bot.say("王阿姨", "/帮助")
        [reply] = await bot.wait_sent(1)
        assert (reply.room_id, reply.contact_id) == (None, bot.contact("王阿姨"))
        assert "110" in reply.text


async def test_joins_within_the_window_get_one_merged_welcome(tmp_path, monkeypatch):
    from datetime import timedelta

    import handlers.welcome

    monkeypatch.setattr(handlers.welcome, "MERGE_WINDOW", timedelta(seconds=0.6))
    async with live_bot(_db(tmp_path), tmp_path) as bot:
        room = bot.room("幸福里居民群")
        bot.world.add_contact("wx_new1", "小李")
        bot.world.add_contact("wx_new2", "老吴")
        bot.world.inject_join(room, ["wx_new1"], "wx_wang")
        bot.world.inject_join(room, ["wx_new2"], "wx_wang")
        [welcome] = await bot.wait_sent(1)
        assert welcome.room_id == room and "小李、老吴" in welcome.text
        await asyncio.sleep(1.0)
        assert len(bot.world.sent) == 1


async def test_friend_request_is_accepted_and_greeted_with_the_menu(tmp_path):
    async with live_bot(_db(tmp_path), tmp_path) as bot:
        bot.world.add_contact("wx_new", "小赵", friend=False)
        bot.world.inject_friend_request("wx_new", "我是5号楼的")
        [greeting] = await bot.wait_sent(1)
        assert bot.world.contacts["wx_new"].friend is True
        assert greeting.contact_id == "wx_new" and "警民群助手" in greeting.text


async def test_a_group_renamed_on_wechat_keeps_its_category_under_the_new_name(tmp_path):
    async with live_bot(_db(tmp_path), tmp_path) as bot:
        room = bot.room("幸福里居民群")
        bot.say("王阿姨", "早上好", room="幸福里居民群")
        bot.world.inject_topic(room, "幸福里邻里一家亲", bot.contact("王阿姨"))
        await bot.until(lambda: bot.app.directory.group(room).name == "幸福里邻里一家亲")
        assert bot.app.directory.group(room).category == "resident"
        bot.say("张警官", "/群", room="幸福里警务工作群")
        [listing] = await bot.wait_sent(1)
        assert "幸福里邻里一家亲" in listing.text and "幸福里居民群" not in listing.text


async def test_duplicate_deliveries_are_handled_once(tmp_path):
    async with live_bot(_db(tmp_path), tmp_path) as bot:
        from wechaty_grpc.wechaty.puppet import EventType

        message_id = bot.say("王阿姨", "/帮助")
        bot.world.feed.push(EventType.EVENT_TYPE_MESSAGE, {"messageId": message_id})  # same id again
        bot.say("王阿姨", "/帮助")  # same text, new id, seconds later: a redelivery
        await bot.wait_sent(1)
        await asyncio.sleep(0.5)
        assert len(bot.world.sent) == 1


async def test_messages_of_one_chat_are_handled_in_arrival_order(tmp_path):
    async with live_bot(_db(tmp_path), tmp_path) as bot:
        for word in ("/帮助", "/没有这个命令", "/功能"):
            bot.say("张警官", word)
        sent = await bot.wait_sent(3)
        assert ["没有" in s.text for s in sent] == [False, True, False]


async def test_gateway_killed_mid_push_then_back_every_message_arrives_once(tmp_path):
    from bot.messages import Outgoing

    async with live_bot(_db(tmp_path), tmp_path) as bot:
        officer = bot.contact("张警官")
        async with bot.app.sessions.begin() as session:
            for i in range(30):
                await bot.app.outbox.enqueue(session, Outgoing(None, officer, f"通知 {i}"))
        bot.app.outbox.wake()
        await bot.until(lambda: len(bot.world.sent) >= 5)
        port = bot.simulator.port
        await bot.simulator.stop()
        await bot.until(lambda: not bot.transport.connected)
        await asyncio.sleep(0.3)
        await bot.simulator.start(port=port)
        await bot.until(lambda: len(bot.world.sent) >= 30, timeout=60)
        await asyncio.sleep(0.5)
        texts = [s.text for s in bot.world.sent]
        assert sorted(texts) == sorted(f"通知 {i}" for i in range(30))
        assert bot.transport.logins == 2


async def test_unreachable_gateway_is_one_clear_error(tmp_path):
    from bot.transport import TransportError
    from bot.wechaty_compat import free_tcp_port
    from bot.wechaty_transport import WechatyTransport

    transport = WechatyTransport(f"127.0.0.1:{free_tcp_port()}", "t")
    with pytest.raises(TransportError, match="cannot reach the WeChat gateway"):
        await transport.start(lambda event: None)


async def test_healthz_and_metrics(tmp_path):
    import aiohttp

    from bot.web import WebServer

    async with live_bot(_db(tmp_path), tmp_path) as bot:
        server = WebServer(bot.app, bot.transport, bot.world)
        port = await server.start("127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as http:
                await (await http.post(f"http://127.0.0.1:{port}/api/say",
                                       json={"from": "张警官", "room": "幸福里居民群", "text": "/帮助"})).json()
                await bot.wait_sent(1)
                health = await (await http.get(f"http://127.0.0.1:{port}/healthz")).json()
                assert health["connected"] is True and health["outbox"]["pending"] == 0
                assert health["last_event_at"]
                metrics = await (await http.get(f"http://127.0.0.1:{port}/metrics")).text()
                assert "jingmin_connected 1.0" in metrics and "jingmin_events_total" in metrics
                sent = await (await http.get(f"http://127.0.0.1:{port}/api/sent")).json()
                assert sent[0]["room"] == bot.room("幸福里居民群")
        finally:
            await server.stop()
