"""The bot over the real wechaty SDK and real gRPC, against the simulated WeChat on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from datetime import timedelta

import pytest
from aiohttp import web as aioweb

from bot import metrics
from bot.clock import FakeClock
from bot.logs import MaskingJsonFormatter
from tests.sdk_fixtures import WAIT, live_bot, sdk_cache_dir  # noqa: F401 - fixture
from bot.simulator import PuppetSimulator  # noqa: E402 - after sdk_fixtures' prepare()


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


async def test_a_burst_loads_a_few_messages_at_a_time_in_order_and_a_question_behind_it_is_answered(tmp_path):
    """A gateway takes ~100 streams at once; 200 messages arriving together must not all load at
    once (grpclib then wakes every waiting call each time one ends), and not one is lost or
    handled out of order."""
    from bot.wechaty_transport import CONVERT_AT_ONCE

    async with live_bot(_db(tmp_path), tmp_path) as bot:
        # a gateway a few ms away: loads overlap
        bot.simulator.options = dataclasses.replace(bot.simulator.options, payload_seconds=0.005)
        handled: list[str] = []
        sink = bot.transport._sink  # noqa: SLF001 - watched, and still called

        async def watched(event) -> None:  # noqa: ANN001
            handled.append(getattr(event, "id", ""))
            await sink(event)

        bot.transport._sink = watched  # noqa: SLF001
        ids = [bot.say("王阿姨", f"大家好 {i:04d}", room="幸福里居民群") for i in range(200)]
        bot.say("张警官", "/帮助")
        [reply] = await bot.wait_sent(1)
        assert reply.contact_id == bot.contact("张警官") and "警民群助手" in reply.text
        await bot.until(lambda: bot.transport.inflight == 0)
        assert [i for i in handled if i in set(ids)] == ids
        assert 2 <= bot.simulator.most_in_flight["MessagePayload"] <= CONVERT_AT_ONCE


async def test_a_gateway_that_hangs_on_many_messages_at_once_holds_the_rest_back_only_once(tmp_path, monkeypatch,
                                                                                           caplog):
    """Forty messages whose MessagePayload never answers fill every loading slot. Each is given up
    after the convert timeout counted from when it began loading, those in the slots together:
    the question behind them is answered two timeouts later (32 at once, then the other 8), not
    forty timeouts later."""
    from bot import wechaty_transport

    monkeypatch.setattr(wechaty_transport, "WATCH_INTERVAL", 0.05)
    answer = PuppetSimulator.rpc_message_payload
    never = asyncio.Event()

    async def hanging(self, request):  # noqa: ANN001
        if "卡住" in self.world.messages[request.id].text:
            await never.wait()
        return await answer(self, request)

    monkeypatch.setattr(PuppetSimulator, "rpc_message_payload", hanging)
    async with live_bot(_db(tmp_path), tmp_path) as bot:
        bot.transport._convert_timeout = 0.5  # noqa: SLF001 - 35 s as shipped
        for i in range(40):
            bot.say("王阿姨", f"卡住 {i}", room="幸福里居民群")
        bot.say("张警官", "/帮助")
        with caplog.at_level(logging.WARNING):
            started = asyncio.get_running_loop().time()
            [reply] = await bot.wait_sent(1, timeout=15)
            waited = asyncio.get_running_loop().time() - started
        assert "警民群助手" in reply.text
        assert waited < 5, f"the question waited {waited:.1f} s behind 40 hung loads"
        await bot.until(lambda: bot.transport.inflight == 0)
        assert caplog.text.count("gave up reading an event from the gateway") == 40


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


# ---- never deaf, watchdog, health, outages, attachments (issue #13) ---------------------------

OUTAGE_NOTE = "刚才与微信断开了{}，这期间的消息可能没有收到。"


def _metric(name: str, **labels) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels or None) or 0.0


def _log_lines(caplog) -> list[str]:
    """The log as production writes it (bot.logs' JSON lines), tracebacks included."""
    formatter = MaskingJsonFormatter()
    return [formatter.format(record) for record in caplog.records]


def wired_bot(tmp_path, clock=None, **transport_options):
    """live_bot wired as `jingmin run` wires it (outage notes), with the transport's clock and options."""
    return live_bot(_db(tmp_path), tmp_path, wired=True, transport_options={"clock": clock, **transport_options})


def _push_raw(bot, event_type, payload: str) -> None:
    """An event exactly as a gateway put it on the wire (the feed's push() JSON-encodes a dict)."""
    bot.world.feed._items.append((int(event_type), payload))  # noqa: SLF001
    bot.world.feed.wake()


GERROR = json.dumps({"gerror": json.dumps({"code": 2, "message": "WatchdogAgent reset: lastFood 60s ago",
                                           "details": "GError: x\n    at /srv/puppet/node_modules/x.js:1:1",
                                           "name": "GError"})})


async def test_error_and_odd_events_in_every_shape_leave_the_bot_answering(tmp_path, caplog):
    """0.2x sends an error as {} or "" , 1.x as {"gerror": ...}; events without payload arrive as ""."""
    from wechaty_grpc.wechaty.puppet import EventType as E

    caplog.set_level(logging.INFO)
    dropped = _metric("jingmin_dropped_events_total", reason="unreadable")
    errors = _metric("jingmin_gateway_errors_total")
    async with live_bot(_db(tmp_path), tmp_path) as bot:
        for event_type, payload in [
            (E.EVENT_TYPE_ERROR, "{}"), (E.EVENT_TYPE_ERROR, ""), (E.EVENT_TYPE_ERROR, GERROR),
            (E.EVENT_TYPE_ERROR, '{"data": "mock error"}'), (E.EVENT_TYPE_HEARTBEAT, "{}"),
            (E.EVENT_TYPE_HEARTBEAT, ""), (E.EVENT_TYPE_READY, ""), (E.EVENT_TYPE_DIRTY, ""),
            (E.EVENT_TYPE_DIRTY, '{"payloadType": 2, "payloadId": "wx_wang"}'), (E.EVENT_TYPE_DONG, ""),
            (99, '{"what": "a newer event type"}'),
            (E.EVENT_TYPE_MESSAGE, "not json at all"), (E.EVENT_TYPE_MESSAGE, "{}"),
        ]:
            _push_raw(bot, event_type, payload)
        bot.say("王阿姨", "/帮助")
        [reply] = await bot.wait_sent(1)
        assert reply.contact_id == bot.contact("王阿姨") and "110" in reply.text
        assert bot.transport.connected and bot.transport.logins == 1
        assert bot.simulator.calls["Event"] == 1  # no reconnect was needed

    assert _metric("jingmin_gateway_errors_total") - errors == 4
    assert _metric("jingmin_dropped_events_total", reason="unreadable") - dropped == 2
    lines = [json.loads(line)["msg"] for line in _log_lines(caplog)]
    reported = [m for m in lines if m.startswith("the WeChat gateway reported an error")]
    assert reported == ["the WeChat gateway reported an error: (no details)"] * 2 + [
        "the WeChat gateway reported an error: WatchdogAgent reset: lastFood 60s ago",
        "the WeChat gateway reported an error: mock error"]
    assert sum("dropped an event" in m for m in lines) == 3  # two unreadable messages, one unknown type


async def test_a_dirty_contact_is_read_again(tmp_path):
    """A renamed contact: the gateway says its payload is dirty, the next message has the new name."""
    from wechaty_grpc.wechaty.puppet import EventType

    async with live_bot(_db(tmp_path), tmp_path) as bot:
        sink = _Sink()
        bot.transport._sink = sink  # noqa: SLF001
        bot.say("王阿姨", "第一条")
        await bot.until(lambda: len(sink.events) == 1)
        bot.world.contacts[bot.contact("王阿姨")].name = "王阿姨（5号楼）"
        bot.world.feed.push(EventType.EVENT_TYPE_DIRTY, {"payloadType": 2, "payloadId": "wx_wang"})
        bot.world.inject_message("wx_wang", "第二条")
        await bot.until(lambda: len(sink.events) == 2)
    assert [m.sender_name for m in sink.events] == ["王阿姨", "王阿姨（5号楼）"]


async def test_heartbeats_reach_the_transport_and_healthz(tmp_path):
    from wechaty_grpc.wechaty.puppet import EventType

    async with live_bot(_db(tmp_path), tmp_path) as bot:
        assert bot.transport.last_heartbeat_at is None
        bot.world.feed.push(EventType.EVENT_TYPE_HEARTBEAT, {"data": "heartbeat@1"})
        await bot.until(lambda: bot.transport.last_heartbeat_at is not None)
        assert bot.transport.health()["last_heartbeat_at"]


async def test_logout_then_login_on_the_same_stream_keeps_the_bot_answering(tmp_path):
    """The SDK's bridge handles a login once per stream; ours every time."""
    from wechaty_grpc.wechaty.puppet import EventType

    async with live_bot(_db(tmp_path), tmp_path) as bot:
        bot.world.feed.push(EventType.EVENT_TYPE_LOGOUT, {"contactId": bot.world.bot.id, "data": "logout()"})
        await bot.until(lambda: not bot.transport.connected)
        assert "logged out" in bot.transport.health()["problem"]
        bot.world.feed.push(EventType.EVENT_TYPE_LOGIN, {"contactId": bot.world.bot.id})
        await bot.until(lambda: bot.transport.connected)
        bot.say("王阿姨", "/帮助")
        [reply] = await bot.wait_sent(1)
        assert "110" in reply.text
        assert (bot.transport.logins, bot.simulator.calls["Event"]) == (2, 1)


async def test_a_reconnect_does_not_stop_the_remote_puppet(tmp_path):
    async with live_bot(_db(tmp_path), tmp_path) as bot:
        port = bot.simulator.port
        await bot.simulator.stop()
        await bot.until(lambda: not bot.transport.connected)
        await bot.simulator.start(port=port)
        await bot.until(lambda: bot.transport.connected)
        bot.say("王阿姨", "/帮助")
        await bot.wait_sent(1)
        assert bot.simulator.calls.get("Stop", 0) == 0 and bot.simulator.calls["Start"] >= 2


async def _watchdog_waits(clock: FakeClock) -> None:
    """Until the watchdog sleeps on the fake clock (so advancing it wakes the watchdog)."""
    for _ in range(500):
        if clock.next_wake() is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the watchdog never waited on the clock")


async def test_watchdog_dings_a_silent_gateway_then_reconnects(tmp_path, monkeypatch):
    """A stream can hang with the TCP connection up: no event for 60 s -> ding; no dong 10 s
    later -> reconnect, and the bot answers again."""
    dings: list[str] = []

    async def hung_ding(self, request):  # a gateway whose event stream hangs: no dong comes
        from wechaty_grpc.wechaty import puppet as pb

        dings.append(request.data)
        return pb.DingResponse()

    monkeypatch.setattr(PuppetSimulator, "rpc_ding", hung_ding)
    clock = FakeClock()
    before = _metric("jingmin_watchdog_total", action="reconnect")
    async with wired_bot(tmp_path, clock=clock, watchdog_seconds=60) as bot:
        await _watchdog_waits(clock)
        clock.advance(timedelta(seconds=59))
        await asyncio.sleep(0.2)
        assert dings == []
        clock.advance(timedelta(seconds=1))
        await bot.until(lambda: dings == ["jingmin-watchdog"])
        await _watchdog_waits(clock)
        clock.advance(timedelta(seconds=10))
        await bot.until(lambda: bot.transport.logins == 2)
        assert bot.simulator.calls["Event"] == 2
        assert _metric("jingmin_watchdog_total", action="reconnect") - before == 1
        bot.say("王阿姨", "/帮助")
        [reply] = await bot.wait_sent(1)
        assert "110" in reply.text


async def test_watchdog_leaves_a_gateway_that_answers_the_ding(tmp_path):
    clock = FakeClock()
    async with wired_bot(tmp_path, clock=clock, watchdog_seconds=60) as bot:
        await _watchdog_waits(clock)
        clock.advance(timedelta(seconds=60))
        await bot.until(lambda: bot.simulator.calls.get("Ding") == 1)
        await asyncio.sleep(0.3)  # the simulator's dong arrives
        await _watchdog_waits(clock)
        clock.advance(timedelta(seconds=10))
        await asyncio.sleep(0.5)
        assert (bot.transport.logins, bot.simulator.calls["Event"]) == (1, 1)


async def test_healthz_says_503_and_why_when_the_event_loop_dies_then_recovers(tmp_path, monkeypatch):
    import aiohttp

    import bot.wechaty_transport as transport_module
    from bot.web import WebServer

    async with live_bot(_db(tmp_path), tmp_path) as bot:
        server = WebServer(bot.app, bot.transport, bot.world)
        port = await server.start("127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as http:
                async def health():
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        return response.status, await response.json()

                assert (await health())[0] == 200
                restarts, reconnects = (_metric("jingmin_event_loop_restarts_total"),
                                        _metric("jingmin_reconnects_total"))
                real = transport_module.classify_failure
                monkeypatch.setattr(transport_module, "classify_failure",
                                    lambda error: (_ for _ in ()).throw(RuntimeError("a bug in the drop handler")))
                await bot.simulator.stop()  # the stream ends; handling it raises: the loop dies
                started = asyncio.get_running_loop().time()
                while (await health())[0] == 200:
                    await asyncio.sleep(0.1)
                status, body = await health()
                assert asyncio.get_running_loop().time() - started < 5
                assert status == 503 and body["connected"] is False
                assert "event loop ended" in body["problem"] and "a bug in the drop handler" in body["problem"]
                monkeypatch.setattr(transport_module, "classify_failure", real)
                await bot.simulator.start(port=bot.simulator.port)
                await bot.until(lambda: bot.transport.connected, timeout=WAIT)
                status, body = await health()
                assert status == 200 and body["problem"] is None
                async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                    text = await response.text()
                for name in ("jingmin_reconnects_total", "jingmin_event_loop_restarts_total",
                             "jingmin_dropped_events_total", "jingmin_last_outage_seconds"):
                    assert name in text
                # the drop is counted even though handling it failed, and the dead loop once
                assert _metric("jingmin_event_loop_restarts_total") - restarts == 1
                assert _metric("jingmin_reconnects_total") - reconnects >= 1
        finally:
            await server.stop()


async def test_officers_are_told_once_of_an_outage_of_minutes_and_it_is_in_metrics(tmp_path):
    clock = FakeClock()
    async with wired_bot(tmp_path, clock=clock, watchdog_seconds=0) as bot:
        officer = bot.contact("张警官")
        port = bot.simulator.port
        await bot.simulator.stop()
        await bot.until(lambda: not bot.transport.connected)
        clock.advance(timedelta(minutes=3, seconds=10))
        await bot.simulator.start(port=port)
        [note] = await bot.wait_sent(1)
        assert (note.contact_id, note.text) == (officer, OUTAGE_NOTE.format("3分钟"))
        assert bot.transport.last_outage == timedelta(minutes=3, seconds=10)
        assert _metric("jingmin_last_outage_seconds") == 190.0

        await bot.simulator.stop()  # a short one: nothing worth telling
        await bot.until(lambda: not bot.transport.connected)
        clock.advance(timedelta(seconds=20))
        await bot.simulator.start(port=port)
        await bot.until(lambda: bot.transport.connected)
        await asyncio.sleep(0.5)
        assert [s.text for s in bot.world.sent] == [OUTAGE_NOTE.format("3分钟")]
        assert _metric("jingmin_last_outage_seconds") == 20.0


def test_outage_durations_read_naturally():
    from bot.app import _minutes_text

    assert [_minutes_text(timedelta(seconds=s)) for s in (61, 150, 3600, 3900, 7260)] == [
        "1分钟", "3分钟", "1小时", "1小时5分钟", "2小时1分钟"]


async def test_a_refused_token_is_one_clear_line_and_never_logged(tmp_path, monkeypatch, caplog):
    """As a 1.x gateway refuses: UNAUTHENTICATED, quoting the wrong token."""
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    from bot.transport import TransportError
    from bot.simulator import SimWorld
    from bot.wechaty_transport import WechatyTransport

    token = "puppet_wrong-4f1c9d"

    async def refuse(self, request):
        raise GRPCError(Status.UNAUTHENTICATED, f'Invalid Wechaty TOKEN "{token}"')

    monkeypatch.setattr(PuppetSimulator, "rpc_start", refuse)
    caplog.set_level(logging.DEBUG)
    simulator = PuppetSimulator(SimWorld())
    await simulator.start()
    try:
        transport = WechatyTransport(simulator.endpoint, token, first_delay=0.1)
        started = asyncio.get_running_loop().time()
        with pytest.raises(TransportError) as raised:
            await transport.start(lambda event: None)
        assert str(raised.value) == "the WeChat gateway refused the token"
        assert asyncio.get_running_loop().time() - started < 5
    finally:
        await simulator.stop()
    lines = _log_lines(caplog)
    assert lines and not [line for line in lines if token in line]
    assert not [line for line in lines if "refused the token" in line]  # the error says it, once


# ---- attachments --------------------------------------------------------------------------------

@contextlib.asynccontextmanager
async def file_server(routes):
    """A CDN of our own: serves what the gateway's URL FileBoxes point at."""
    app = aioweb.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = aioweb.AppRunner(app, access_log=None)
    await runner.setup()
    site = aioweb.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # noqa: SLF001
    finally:
        await runner.cleanup()


def _url_images(monkeypatch, url_of: dict, shape: str = "1.x") -> None:
    """The simulator answers MessageImage with a URL FileBox, as CDN-backed puppets do."""
    from wechaty_grpc.wechaty import puppet as pb

    async def url_image(self, request):
        m = self._message(request.id)
        url = url_of["url"]
        box = ({"type": 2, "url": url, "name": m.filename, "headers": {"x-cdn": "1"}} if shape == "1.x"
               else {"boxType": 2, "remoteUrl": url, "name": m.filename})
        return pb.MessageImageResponse(filebox=json.dumps(box))

    monkeypatch.setattr(PuppetSimulator, "rpc_message_image", url_image)


class _Sink:
    def __init__(self) -> None:
        self.events: list = []

    async def __call__(self, event) -> None:
        self.events.append(event)


@pytest.mark.parametrize("shape", ["0.2x", "1.x"])
async def test_an_image_sent_as_a_url_filebox_arrives_as_bytes(tmp_path, monkeypatch, shape):
    from bot.messages import IncomingMessage

    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    seen_headers = []

    async def serve(request):
        seen_headers.append(request.headers.get("x-cdn"))
        return aioweb.Response(body=photo, content_type="image/png")

    async with file_server({"/cdn/photo.png": serve}) as base:
        _url_images(monkeypatch, {"url": f"{base}/cdn/photo.png"}, shape)
        async with live_bot(_db(tmp_path), tmp_path) as bot:
            sink = _Sink()
            bot.transport._sink = sink  # noqa: SLF001 - read what the transport hands the core
            bot.say("王阿姨", "", kind="image", filename="楼道堆物.png")
            await bot.until(lambda: sink.events)
    [message] = sink.events
    assert isinstance(message, IncomingMessage)
    assert (message.attachment, message.attachment_name, message.attachment_error) == (photo, "楼道堆物.png", None)
    assert seen_headers == (["1"] if shape == "1.x" else [None])


@pytest.mark.parametrize("case", ["404", "too big", "too slow"])
async def test_an_attachment_that_cannot_be_fetched_says_why(tmp_path, monkeypatch, caplog, case):
    async def serve(request):
        if case == "404":
            raise aioweb.HTTPNotFound()
        if case == "too slow":
            await asyncio.sleep(1.5)
        return aioweb.Response(body=b"x" * 5000, content_type="image/png")

    caplog.set_level(logging.WARNING)
    async with file_server({"/cdn/p.png": serve}) as base:
        _url_images(monkeypatch, {"url": f"{base}/cdn/p.png"})
        async with live_bot(_db(tmp_path), tmp_path) as bot:
            bot.transport._attachment_max = 1000  # noqa: SLF001
            bot.transport._attachment_timeout = 0.5  # noqa: SLF001
            sink = _Sink()
            bot.transport._sink = sink  # noqa: SLF001
            bot.say("王阿姨", "", kind="image", filename="p.png")
            await bot.until(lambda: sink.events)
    [message] = sink.events
    assert message.attachment is None
    expected = {"404": "HTTP 404 from 127.0.0.1", "too big": "larger than the 0 KB cap",
                "too slow": "not received within 0 s"}[case]
    assert expected in message.attachment_error
    assert [r for r in caplog.records if r.getMessage() == f"could not fetch an attachment: {message.attachment_error}"]


async def test_the_tip_dialog_tells_the_resident_when_a_photo_did_not_arrive(tmp_path, monkeypatch):
    async def gone(request):
        raise aioweb.HTTPGone()

    async with file_server({"/cdn/p.png": gone}) as base:
        _url_images(monkeypatch, {"url": f"{base}/cdn/p.png"})
        async with live_bot(_db(tmp_path), tmp_path) as bot:
            for said in ("举报", "1"):
                bot.say("王阿姨", said)
                await bot.wait_sent(len(bot.world.sent) + 1)
            bot.say("王阿姨", "", kind="image", filename="现场.png")
            sent = await bot.wait_sent(3)
    assert sent[-1].text == "不好意思，图片或文件没能收到，请再发一次，或者用文字说明。"


async def test_a_qr_code_filebox_arrives_as_a_png(tmp_path, monkeypatch):
    from wechaty_grpc.wechaty import puppet as pb

    async def qr_image(self, request):
        return pb.MessageImageResponse(filebox=json.dumps({"boxType": 3, "qrCode": "https://u.wechat.com/abc"}))

    monkeypatch.setattr(PuppetSimulator, "rpc_message_image", qr_image)
    async with live_bot(_db(tmp_path), tmp_path) as bot:
        sink = _Sink()
        bot.transport._sink = sink  # noqa: SLF001
        bot.say("王阿姨", "", kind="image", filename="")
        await bot.until(lambda: sink.events)
    [message] = sink.events
    assert message.attachment.startswith(b"\x89PNG") and message.attachment_name == "qrcode.png"


def test_the_tls_server_name_follows_the_node_clients_token_rule():
    from bot.wechaty_compat import GatewayTLS, GatewayTLSError

    assert GatewayTLS().name_for("insecure_3f2b-uuid", "127.0.0.1") == "insecure"
    assert GatewayTLS().name_for("Puppet_Paimon_3f2b", "10.0.0.5") == "puppet_paimon"
    assert GatewayTLS().name_for("3f2b-uuid", "gateway.example.org") == "gateway.example.org"
    assert GatewayTLS(server_name="wx.example.org").name_for("insecure_x", "127.0.0.1") == "wx.example.org"
    with pytest.raises(GatewayTLSError, match="tls_server_name"):
        GatewayTLS().name_for("3f2b-uuid", "127.0.0.1")


def test_filebox_json_of_both_generations():
    from bot.wechaty_compat import BOX_BASE64, BOX_QR, BOX_URL, BOX_UUID, FileBoxUnreadable, read_file_box

    old_url = read_file_box('{"boxType": 2, "remoteUrl": "http://cdn/a.png", "name": "a.png", "headers": {}}')
    new_url = read_file_box('{"type": 2, "url": "http://cdn/a.png", "name": "a.png", "size": 70}')
    assert (old_url.kind, old_url.url) == (new_url.kind, new_url.url) == (BOX_URL, "http://cdn/a.png")
    assert read_file_box('{"type": 1, "base64": "aGk=", "name": "a.txt"}').kind == BOX_BASE64
    assert read_file_box('{"boxType": 3, "qrCode": "weixin://x"}').kind == BOX_QR
    assert read_file_box('{"type": 7, "uuid": "u-1", "name": "big.pdf"}').uuid == "u-1"
    assert BOX_UUID == 7
    with pytest.raises(FileBoxUnreadable, match="type 5"):
        read_file_box('{"type": 5, "name": "/etc/passwd"}')  # a local file of the gateway's
