"""The web chat page's HTTP side, without a browser: photos and files sent from the page reach the
simulated WeChat as image/file messages, their bytes are served back (only pictures inline), and a
simulated join or friend request leaves a note in the chat, as WeChat's grey lines do."""

from __future__ import annotations

import contextlib

import aiohttp
from wechaty_grpc.wechaty.puppet import EventType

from bot import web
from bot.simulator.seed import world_from_config
from bot.web import WebServer
from tests.conftest import make_config

ROOM = "room:幸福里居民群"


@contextlib.asynccontextmanager
async def simulated(tmp_path):
    """The sample community's simulated WeChat and its web server (no bot): yields (world, server, http)."""
    world = world_from_config(make_config(f"sqlite+aiosqlite:///{tmp_path / 'j.db'}"))
    world.feed.listening = True  # as if a bot's Event stream were open: events wait in the feed
    server = WebServer(None, None, world)
    port = await server.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            yield world, server, http
    finally:
        await server.stop()


def upload(sender: str, kind: str, name: str, data: bytes, room: str | None = None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("from", sender)
    if room:
        form.add_field("room", room)
    form.add_field("kind", kind)
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


def events(world) -> list[int]:
    return [item[0] for item in world.feed._items]  # noqa: SLF001 - what the bot will receive


async def test_a_photo_sent_from_the_page_reaches_the_bot_and_is_served_inline(tmp_path):
    photo = b"\x89PNG\r\n\x1a\n" + b"0" * 3000
    async with simulated(tmp_path) as (world, server, http):
        async with http.post("/api/upload", data=upload("王阿姨", "image", "楼道堆物.png", photo, ROOM)) as r:
            assert r.status == 200
            message_id = (await r.json())["id"]
        message = world.messages[message_id]
        assert (message.kind, message.filename, message.data) == ("image", "楼道堆物.png", photo)
        assert (message.from_id, message.room_id) == ("wx_wang", ROOM)
        assert events(world) == [int(EventType.EVENT_TYPE_MESSAGE)]

        async with http.get("/api/messages") as r:
            [line] = await r.json()
        assert (line["kind"], line["name"], line["size"], line["from_name"]) == ("image", "楼道堆物.png", len(photo), "王阿姨")
        async with http.get(line["url"]) as r:
            assert r.headers["Content-Type"] == "image/png"
            assert r.headers["Content-Disposition"].startswith("inline")
            assert await r.read() == photo


async def test_what_the_bot_sends_is_served_too(tmp_path):
    async with simulated(tmp_path) as (world, server, http):
        sent = world.record_sent("wx_zhang", "file", "", filename="线索3-附件1.csv", data="编号,类别\n3,治安\n".encode())
        async with http.get(f"/media/{sent.id}") as r:
            assert r.headers["Content-Disposition"] == "attachment; filename*=UTF-8''%E7%BA%BF%E7%B4%A23-%E9%99%84%E4%BB%B61.csv"
            assert (await r.read()).decode() == "编号,类别\n3,治安\n"
        assert server.lines[-1]["url"] == f"/media/{sent.id}" and server.lines[-1]["bot"] is True


async def test_a_file_that_could_run_in_the_page_is_only_a_download(tmp_path):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    async with simulated(tmp_path) as (world, server, http):
        for kind, name in (("image", "look.svg"), ("file", "page.html")):
            async with http.post("/api/upload", data=upload("小周", kind, name, svg)) as r:
                message_id = (await r.json())["id"]
            async with http.get(f"/media/{message_id}") as r:
                assert r.headers["Content-Type"] == "application/octet-stream"
                assert r.headers["Content-Disposition"].startswith("attachment")
                assert r.headers["Content-Security-Policy"] == "sandbox"
        async with http.get("/media/msg-nobody-1") as r:
            assert r.status == 404


async def test_an_upload_without_a_file_or_too_big_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(web, "MAX_UPLOAD", 1024)
    async with simulated(tmp_path) as (world, server, http):
        async with http.post("/api/upload", data=upload("王阿姨", "file", "empty.txt", b"")) as r:
            assert (r.status, await r.json()) == (400, {"error": "no file, or an empty one"})
        async with http.post("/api/upload", data=upload("王阿姨", "file", "big.bin", b"x" * 2048)) as r:
            assert r.status == 400 and "larger than" in (await r.json())["error"]
        async with http.post("/api/upload", json={"from": "王阿姨"}) as r:
            assert r.status == 400
        async with http.post("/api/upload", data=upload("王阿姨", "voice", "a.amr", b"x")) as r:
            assert (r.status, await r.json()) == (400, {"error": "kind must be image or file"})
        assert world.messages == {} and events(world) == []


async def test_a_join_from_the_page_is_noted_in_the_group(tmp_path):
    async with simulated(tmp_path) as (world, server, http):
        async with http.post("/api/join", json={"room": "幸福里居民群", "contacts": ["小吴"], "inviter": "王阿姨"}) as r:
            assert (await r.json())["joined"] == ["小吴"]
        async with http.post("/api/join", json={"room": "幸福里居民群", "contacts": ["老钱"]}) as r:
            assert (await r.json())["joined"] == ["老钱"]
        async with http.post("/api/join", json={"room": "幸福里居民群", "contacts": ["小吴"], "inviter": "王阿姨"}) as r:
            assert (await r.json())["joined"] == []  # already in: nothing happened, nothing noted
        notes = [(line["kind"], line["room"], line["text"]) for line in server.lines]
        assert notes == [("system", ROOM, "“王阿姨”邀请“小吴”加入了群聊"), ("system", ROOM, "“老钱”加入了群聊")]
        assert {"wx:小吴", "wx:老钱"} <= set(world.rooms[ROOM].member_ids)


async def test_a_friend_request_from_the_page_is_noted_in_its_private_chat(tmp_path):
    async with simulated(tmp_path) as (world, server, http):
        async with http.post("/api/friend", json={"from": "小郑", "hello": "我是5号楼的"}) as r:
            contact = (await r.json())["contact"]
        assert world.contacts[contact].friend is False
        [note] = server.lines
        assert (note["kind"], note["from"], note["room"], note["text"]) == (
            "system", contact, None, "“小郑”请求添加助手为朋友：我是5号楼的")
        async with http.post("/api/friend", json={"hello": "hi"}) as r:
            assert r.status == 400
        async with http.get("/api/state") as r:
            people = {c["name"]: c for c in (await r.json())["contacts"]}
        assert people["小郑"]["friend"] is False
