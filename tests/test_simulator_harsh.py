"""The simulated WeChat is as harsh as real puppet services (issue #13, point 5).

Mostly at the protocol level: a grpclib client of the generated stubs (wechaty_grpc's
PuppetStub), or the real SDK's PuppetService, against the simulator on 127.0.0.1, sees what
a Node puppet service would send: heartbeats, error payloads in their three shapes, a logout
event, events lost while nobody listens, URL FileBoxes whose bytes come over HTTP. The tests
that run the whole bot check that it survives them (error events, URL FileBoxes).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json

import aiohttp
import pytest
from grpclib.client import Channel
from grpclib.const import Cardinality, Status
from grpclib.exceptions import GRPCError

from bot.wechaty_compat import free_tcp_port, make_options, prepare, reset_sdk_caches, run_with_reconnect

prepare()  # before the first `import wechaty`

from wechaty_grpc.wechaty import PuppetStub  # noqa: E402
from wechaty_grpc.wechaty.puppet import EventType  # noqa: E402
from wechaty_puppet import FileBox  # noqa: E402

from bot.simulator import PuppetSimulator, SimulatorOptions, SimWorld  # noqa: E402
from bot.simulator.puppet import MessageForwardRequest, MessageForwardResponse  # noqa: E402
from bot.simulator.world import TINY_PNG  # noqa: E402
from tests.sdk_fixtures import live_bot  # noqa: E402
from tests.test_simulator_sdk import AssistantBot, running  # noqa: E402

WAIT = 10.0
ROOM = "room_xfl_residents"
QUIET = SimulatorOptions(heartbeat_seconds=None)  # for tests that count every event
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.4 transfer 5000 yuan"


@pytest.fixture(autouse=True)
def sdk_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "wechaty"))
    reset_sdk_caches()
    yield
    reset_sdk_caches()


@pytest.fixture
def world() -> SimWorld:
    community = SimWorld(bot_id="wx_bot", bot_name="警民群助手")
    community.add_contact("wx_zhang", "张警官")
    community.add_contact("wx_wang", "王阿姨")
    community.add_contact("wx_li", "小李")
    community.add_room(ROOM, "幸福里居民群", ["wx_zhang", "wx_wang"])
    return community


@contextlib.asynccontextmanager
async def serving(world: SimWorld, options: SimulatorOptions = QUIET):
    simulator = PuppetSimulator(world, options=options)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


class Client:
    """What a puppet-service client sees: the generated stub, and the Event stream read into a
    queue by a task (open_events)."""

    def __init__(self, simulator: PuppetSimulator) -> None:
        self.channel = Channel("127.0.0.1", simulator.port)
        self.stub = PuppetStub(self.channel)
        self.events: asyncio.Queue = asyncio.Queue()
        self._reader: asyncio.Task | None = None

    async def open_events(self, logged_in: bool = True) -> None:
        self._reader = asyncio.create_task(self._read())
        if logged_in:
            assert await self.next_type() == EventType.EVENT_TYPE_LOGIN
            assert await self.next_type() == EventType.EVENT_TYPE_READY

    async def _read(self) -> None:
        async for event in self.stub.event():
            await self.events.put((EventType(event.type), event.payload))

    async def next_event(self, timeout: float = WAIT) -> tuple[EventType, str]:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def next_type(self) -> EventType:
        return (await self.next_event())[0]

    async def nothing_within(self, seconds: float = 0.3) -> bool:
        with contextlib.suppress(asyncio.TimeoutError):
            await self.next_event(seconds)
            return False
        return True

    async def close(self) -> None:
        # The reader's end is awaited: a task dying unawaited is logged with its traceback from
        # the garbage collector, and on 3.11 that can run inside another ast.parse and break it.
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        self.channel.close()


@contextlib.asynccontextmanager
async def client_of(simulator: PuppetSimulator):
    client = Client(simulator)
    try:
        yield client
    finally:
        await client.close()


async def _download(url: str) -> tuple[bytes, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        response.raise_for_status()
        return await response.read(), response.content_type


async def _until(condition, timeout: float = WAIT) -> None:  # noqa: ANN001
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


def test_by_default_the_simulator_behaves_like_a_real_service():
    options = SimulatorOptions()
    assert 15 <= options.heartbeat_seconds <= 60
    assert (options.queue_while_offline, options.attachments) == (False, "url")


# ---- heartbeats ----

async def test_an_idle_event_stream_gets_heartbeats_at_the_interval(world):
    async with serving(world, SimulatorOptions(heartbeat_seconds=0.05)) as simulator, client_of(simulator) as client:
        await client.open_events()
        loop = asyncio.get_running_loop()
        started = loop.time()
        beats = [await client.next_event() for _ in range(3)]
        elapsed = loop.time() - started
    assert {kind for kind, _ in beats} == {EventType.EVENT_TYPE_HEARTBEAT}
    assert all(json.loads(payload)["data"] for _, payload in beats)
    assert 0.1 <= elapsed < 2.0


async def test_the_real_sdk_receives_the_heartbeats(world):
    async with serving(world, SimulatorOptions(heartbeat_seconds=0.05)) as simulator:
        bot = AssistantBot(make_options(simulator.endpoint, simulator.token, web_port=free_tcp_port()))
        async with running(bot, bot.start()):
            beats: list = []
            bot.puppet._event_stream.on("heartbeat", beats.append)  # noqa: SLF001
            await _until(lambda: len(beats) >= 2)
    assert beats[0].data.startswith("heartbeat")


# ---- error, dirty and payload-less events ----

@pytest.mark.parametrize("shape, wire", [
    ("gerror", '{"gerror": "puppet reset failed"}'),  # a 1.x service
    ("empty", "{}"),  # a 0.2x Puppet.reset() failure
    ("none", ""),  # an error emitted without payload
])
async def test_error_events_come_in_the_shapes_real_services_send(world, shape, wire):
    async with serving(world) as simulator, client_of(simulator) as client:
        await client.open_events()
        world.inject_error("puppet reset failed", shape=shape)
        assert await client.next_event() == (EventType.EVENT_TYPE_ERROR, wire)


async def test_dirty_and_payload_less_events_on_demand(world):
    async with serving(world) as simulator, client_of(simulator) as client:
        await client.open_events()
        world.inject_dirty("room_member", ROOM)
        world.inject_event(EventType.EVENT_TYPE_RESET)
        kind, payload = await client.next_event()
        assert (kind, json.loads(payload)) == (EventType.EVENT_TYPE_DIRTY, {"payloadType": 4, "payloadId": ROOM})
        assert await client.next_event() == (EventType.EVENT_TYPE_RESET, "")


@pytest.mark.parametrize("shape", ["gerror", "empty", "none"])
async def test_after_an_error_event_the_bot_still_answers(tmp_path, shape):
    async with live_bot(f"sqlite+aiosqlite:///{tmp_path / 'j.db'}", tmp_path) as bot:
        bot.world.inject_error("puppet reset failed", shape=shape)
        await asyncio.sleep(0.3)
        bot.say("王阿姨", "/帮助")
        [reply] = await bot.wait_sent(1, timeout=5.0)
        assert reply.contact_id == bot.contact("王阿姨") and "110" in reply.text


# ---- logout ----

async def test_logout_sends_a_logout_event_and_the_next_start_logs_in_again(world):
    async with serving(world) as simulator, client_of(simulator) as client:
        await client.open_events()
        await client.stub.logout()
        kind, payload = await client.next_event()
        assert (kind, json.loads(payload)) == (EventType.EVENT_TYPE_LOGOUT, {"contactId": "wx_bot", "data": "logout"})

        world.inject_message("wx_wang", "退出登录时发的")  # a logged-out account receives nothing
        assert await client.nothing_within()

        await client.stub.start()
        assert [await client.next_type(), await client.next_type()] == [
            EventType.EVENT_TYPE_LOGIN, EventType.EVENT_TYPE_READY]
        message_id = world.inject_message("wx_wang", "重新登录以后发的")
        assert await client.next_event() == (EventType.EVENT_TYPE_MESSAGE, json.dumps({"messageId": message_id}))
        assert world.feed.dropped == 1


async def test_an_account_logged_out_on_the_phone_says_so_on_the_stream(world):
    async with serving(world) as simulator, client_of(simulator) as client:
        await client.open_events()
        simulator.log_out("kicked out: logged in on another device")
        kind, payload = await client.next_event()
        assert kind == EventType.EVENT_TYPE_LOGOUT
        assert json.loads(payload)["data"] == "kicked out: logged in on another device"


async def test_a_stream_opened_while_logged_out_gets_no_login(world):
    async with serving(world) as simulator, client_of(simulator) as client:
        await client.stub.logout()
        await client.open_events(logged_in=False)
        assert await client.nothing_within()


async def test_the_real_sdk_sees_the_logout_and_logs_in_again_on_start(world):
    async with serving(world) as simulator:
        bot = AssistantBot(make_options(simulator.endpoint, simulator.token, web_port=free_tcp_port()))
        async with running(bot, bot.start()):
            logouts: list = []
            logins: list = []
            bot.puppet._event_stream.on("logout", logouts.append)  # noqa: SLF001
            bot.puppet._event_stream.on("login", logins.append)  # noqa: SLF001
            await bot.puppet.puppet_stub.logout()  # the RPC alone: the SDK's logout() fakes its own event
            await _until(lambda: len(logouts) == 1)
            assert logouts[0].contact_id == "wx_bot" and bot.puppet.login_user_id is None
            await bot.puppet.puppet_stub.start()
            # PuppetService logs in again; Wechaty's own on_login fires once per event bridge.
            await _until(lambda: len(logins) == 1)
            assert bot.puppet.login_user_id == "wx_bot"


# ---- events while nobody listens ----

async def test_what_happens_while_no_bot_listens_is_lost(world):
    async with serving(world) as simulator, client_of(simulator) as client:
        world.inject_message("wx_wang", "没人在线时发的")
        await client.open_events()
        message_id = world.inject_message("wx_wang", "上线以后发的")
        assert await client.next_event() == (EventType.EVENT_TYPE_MESSAGE, json.dumps({"messageId": message_id}))
        assert await client.nothing_within()
    assert world.feed.dropped == 1


async def test_a_switch_keeps_them_for_the_next_stream(world):
    async with serving(world, SimulatorOptions(heartbeat_seconds=None, queue_while_offline=True)) as simulator, \
            client_of(simulator) as client:
        message_id = world.inject_message("wx_wang", "没人在线时发的")
        await client.open_events()
        assert await client.next_event() == (EventType.EVENT_TYPE_MESSAGE, json.dumps({"messageId": message_id}))
    assert world.feed.dropped == 0


async def test_what_was_said_while_the_gateway_was_down_is_not_delivered_after_the_restart(world):
    async with serving(world) as simulator:
        async with client_of(simulator) as client:
            await client.open_events()
        port = simulator.port
        await simulator.stop()
        world.inject_message("wx_wang", "网关宕机时发的")
        await simulator.start(port=port)
        async with client_of(simulator) as client:
            await client.open_events()
            assert await client.nothing_within()


# ---- MessageForward ----

async def _forward(simulator: PuppetSimulator, message_id: str, conversation_id: str) -> str:
    channel = Channel("127.0.0.1", simulator.port)
    try:
        async with channel.request("/wechaty.Puppet/MessageForward", Cardinality.UNARY_UNARY,
                                   MessageForwardRequest, MessageForwardResponse, timeout=WAIT) as stream:
            await stream.send_message(MessageForwardRequest(message_id=message_id, conversation_id=conversation_id),
                                      end=True)
            return (await stream.recv_message()).id
    finally:
        channel.close()


async def test_the_bot_forwards_a_residents_photo_to_an_officer(world):
    async with serving(world) as simulator:
        photo = world.inject_message("wx_wang", "", room_id=ROOM, kind="image", filename="楼道堆物.png", data=PHOTO)
        forwarded = await _forward(simulator, photo, "wx_zhang")
        [sent] = world.sent
        assert (sent.id, sent.contact_id, sent.kind, sent.text) == (forwarded, "wx_zhang", "image", "楼道堆物.png")
        assert world.messages[forwarded].data == PHOTO and world.messages[forwarded].from_id == "wx_bot"

        text = world.inject_message("wx_wang", "电动车在楼道里充电", room_id=ROOM)
        await _forward(simulator, text, ROOM)
        assert (world.sent[-1].room_id, world.sent[-1].text) == (ROOM, "电动车在楼道里充电")
        with pytest.raises(GRPCError) as missing:
            await _forward(simulator, "msg-gone", "wx_zhang")
        assert missing.value.status == Status.NOT_FOUND


async def test_the_sdk_forwards_an_image_through_its_url_filebox(world):
    """The pinned SDK forwards by reading the image (a URL FileBox) and sending that box back."""
    async with serving(world) as simulator:
        bot = AssistantBot(make_options(simulator.endpoint, simulator.token, web_port=free_tcp_port()))
        async with running(bot, bot.start()):
            photo = world.inject_message("wx_wang", "", room_id=ROOM, kind="image", filename="楼道堆物.png",
                                         data=PHOTO)
            await world.wait_sent(1, WAIT)  # the receipt AssistantBot sends for every image
            await bot.puppet.message_forward("wx_zhang", photo)
            [_, forwarded] = await world.wait_sent(2, WAIT)
    assert (forwarded.contact_id, forwarded.kind, forwarded.text) == ("wx_zhang", "image", "楼道堆物.png")
    assert world.messages[forwarded.id].data == PHOTO


# ---- room invitations ----

async def test_an_invitation_payload_names_the_inviter_members_and_receiver(world):
    async with serving(world) as simulator, client_of(simulator) as client:
        world.add_room("room_work", "幸福里工作群", ["wx_zhang", "wx_li"], with_bot=False)
        invitation = world.inject_room_invite("room_work", inviter_id="wx_zhang")
        payload = await client.stub.room_invitation_payload(id=invitation)
        assert (payload.inviter_id, payload.topic, payload.receiver_id) == ("wx_zhang", "幸福里工作群", "wx_bot")
        assert (payload.member_ids, payload.member_count) == (["wx_zhang", "wx_li"], 2)
        assert payload.timestamp > 0
        avatar, mime = await _download(payload.avatar)
        assert (avatar, mime) == (TINY_PNG, "image/png")


# ---- images and files as URL FileBoxes ----

async def test_images_and_files_are_url_fileboxes_served_over_http(world):
    async with serving(world) as simulator, client_of(simulator) as client:
        photo = world.inject_message("wx_wang", "", kind="image", filename="楼道堆物.png", data=PHOTO)
        pdf = world.inject_message("wx_wang", "", kind="file", filename="转账记录.pdf", data=PDF)

        image_box = json.loads((await client.stub.message_image(id=photo)).filebox)
        file_box = FileBox.from_json((await client.stub.message_file(id=pdf)).filebox)  # the SDK's reading

        assert image_box["boxType"] == 2 and "base64" not in image_box
        assert image_box["remoteUrl"].startswith(f"http://127.0.0.1:{simulator.media.port}/")
        assert await _download(image_box["remoteUrl"]) == (PHOTO, "image/png")
        assert (file_box.name, await _download(file_box.remoteUrl)) == ("转账记录.pdf", (PDF, "application/pdf"))
        assert world.media_url(photo) == image_box["remoteUrl"]

        port = simulator.port  # a gateway restart leaves the CDN's links valid
        await simulator.stop()
        await simulator.start(port=port)
        assert (await _download(image_box["remoteUrl"]))[0] == PHOTO


async def test_a_switch_sends_them_inline_as_base64(world):
    async with serving(world, SimulatorOptions(attachments="base64")) as simulator, client_of(simulator) as client:
        photo = world.inject_message("wx_wang", "", kind="image", filename="楼道堆物.png", data=PHOTO)
        box = json.loads((await client.stub.message_image(id=photo)).filebox)
    assert (box["boxType"], box["name"], base64.b64decode(box["base64"])) == (1, "楼道堆物.png", PHOTO)


async def test_a_photo_sent_in_the_tip_dialog_is_received(tmp_path):
    async with live_bot(f"sqlite+aiosqlite:///{tmp_path / 'j.db'}", tmp_path) as bot:
        for n, said in enumerate(["举报", "1"], start=1):
            bot.say("王阿姨", said)
            await bot.wait_sent(n)
        bot.say("王阿姨", "", kind="image", filename="楼道堆物.png", data=PHOTO)
        sent = await bot.wait_sent(3)
        assert "已收到1个附件" in sent[-1].text


# ---- new speakers ----

async def test_someone_not_yet_in_the_room_who_speaks_becomes_a_member(world):
    async with serving(world) as simulator, client_of(simulator) as client:
        await client.open_events()
        message_id = world.inject_message("wx_li", "大家好，我刚搬来", room_id=ROOM)

        room = await client.stub.room_payload(id=ROOM)
        assert "wx_li" in room.member_ids
        member = await client.stub.room_member_payload(id=ROOM, member_id="wx_li")
        assert member.name == "小李"
        # Only the message: a real service sends room-join for WeChat's join notice alone.
        assert await client.next_event() == (EventType.EVENT_TYPE_MESSAGE, json.dumps({"messageId": message_id}))
        assert await client.nothing_within()


async def test_the_bot_answers_a_new_speaker_and_sees_them_in_the_member_list(world):
    async with serving(world, SimulatorOptions()) as simulator:
        bot = AssistantBot(make_options(simulator.endpoint, simulator.token, web_port=free_tcp_port()))
        async with running(bot, run_with_reconnect(bot, first_delay=0.2)):
            world.inject_message("wx_li", "大家好，我刚搬来", room_id=ROOM)
            [reply] = await world.wait_sent(1, WAIT)
            assert reply.room_id == ROOM
            assert "wx_li" in await bot.puppet.room_members(ROOM)
