"""The aiohttp server: /healthz and /metrics always; with a simulated WeChat also the web chat
page (rooms and private chats, speak as anyone, the bot's replies live over a WebSocket) and a
small JSON API to inject events and read what the bot sent. The plugins' pages (`Plugin.web_app`,
the officers' console at /console/) are mounted under their prefixes on every transport.

API (simulator only):
  GET  /api/state                       rooms, contacts (with their role when the bot's config is known), bot id/name
  GET  /api/messages?since=N            every chat line (messages injected or sent, and the page's
                                        "joined" / "friend request" notes), from index N
  GET  /api/sent?since=N                what the bot sent, from index N
  POST /api/say     {from, text, room?}  a contact writes (room by name or id; none: private)
  POST /api/upload  multipart: from, room?, kind (image|file), file
                                        a contact sends a photo or a file
  GET  /media/{id}                      the bytes of an image or file someone (or the bot) sent
  POST /api/join    {room, contacts: [names], inviter?}
  POST /api/friend  {from, hello?}
  POST /api/invite  {room, inviter}
  GET  /ws                              WebSocket: one JSON message per chat line
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import mimetypes
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import WSMsgType, web

from bot import metrics

log = logging.getLogger(__name__)
PAGE = Path(__file__).parent / "webui" / "chat.html"
MAX_UPLOAD = 20 * 1024 * 1024  # above the tips' cap on purpose: the page must be able to show the bot refusing
# Shown in the page; anything else (SVG, HTML, ...) is only offered as a download, never rendered.
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})


def _line(world, message, tz=None) -> dict[str, Any]:
    """One chat line for the page; `at` in the bot's time zone (tz), as its residents see it."""
    sender = world.contacts.get(message.from_id)
    line = {
        "id": message.id, "kind": message.kind, "text": message.filename if message.kind in ("image", "file")
        else message.text, "from": message.from_id, "from_name": sender.name if sender else message.from_id,
        "room": message.room_id or None, "to": message.to_id or None,
        "at": message.at.astimezone(tz).isoformat(), "bot": message.from_id == world.bot.id,
    }
    if message.data:
        line.update(url=f"/media/{quote(message.id)}", size=len(message.data), name=message.filename or message.id)
    return line


def _media_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _slash_after_prefixes(app):
    """`/console` typed without its slash goes to `/console/` (a plugin's pages would answer 404)."""
    bare = {spec.prefix.rstrip("/"): spec.prefix for spec in (app.registry.web_apps if app is not None else [])
            if spec.prefix.endswith("/") and len(spec.prefix) > 1}

    @web.middleware
    async def slash(request: web.Request, handler):
        if request.path in bare and request.method in ("GET", "HEAD"):
            query = f"?{request.query_string}" if request.query_string else ""
            raise web.HTTPMovedPermanently(bare[request.path] + query)
        return await handler(request)

    return slash


class WebServer:
    def __init__(self, app=None, transport=None, world=None) -> None:
        self.app = app
        self.transport = transport if transport is not None else getattr(app, "transport", None)
        self.world = world
        self.lines: list[dict[str, Any]] = []
        self._notes = itertools.count(1)
        self._tz = getattr(getattr(app, "clock", None), "tz", None)  # None: the machine's
        self.sockets: set[web.WebSocketResponse] = set()
        self._sends: set[asyncio.Future] = set()
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.web = web.Application(middlewares=[_slash_after_prefixes(app)])
        self.web.add_routes([web.get("/healthz", self.healthz), web.get("/metrics", self.metrics)])
        for spec in (app.registry.web_apps if app is not None else []):
            self.web.add_subapp(spec.prefix, spec.factory(app))  # the plugins' pages (the console)
        if world is not None:
            world.listeners.append(self._on_message)
            self.web.add_routes([
                web.get("/", self.page), web.get("/ws", self.ws), web.get("/api/state", self.state),
                web.get("/api/messages", self.messages), web.get("/api/sent", self.sent),
                web.post("/api/say", self.say), web.post("/api/upload", self.upload),
                web.get("/media/{message_id}", self.media), web.post("/api/join", self.join),
                web.post("/api/friend", self.friend), web.post("/api/invite", self.invite),
            ])

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self.runner = web.AppRunner(self.web, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - port 0 picks one
        return self.port

    async def stop(self) -> None:
        if self.world is not None and self._on_message in self.world.listeners:
            self.world.listeners.remove(self._on_message)
        await asyncio.gather(*self._sends, return_exceptions=True)
        for ws in list(self.sockets):
            await ws.close()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    # ---- health --------------------------------------------------------------------------

    async def _outbox(self):
        if self.app is None or not getattr(self.app, "started", False):
            return None
        return await self.app.outbox.stats()

    def _health(self) -> dict[str, Any]:
        """The transport's own account (WechatyTransport.health: why it is down, a dead event
        loop first), or just whether it is connected."""
        report = getattr(self.transport, "health", None)
        if callable(report):
            return report()
        connected = bool(self.transport is not None and self.transport.connected)
        last = getattr(self.transport, "last_event_at", None)
        return {"connected": connected, "problem": None if connected else "not connected to WeChat",
                "last_event_at": last.isoformat() if last else None}

    async def healthz(self, request: web.Request) -> web.Response:
        """200 while WeChat is connected and the event loop runs; 503 with `problem` saying why."""
        health = self._health()
        stats = await self._outbox()
        body = {**health,
                "outbox": {"pending": stats.pending, "failed": stats.failed, "uncertain": stats.uncertain}
                if stats else None}
        healthy = bool(health.get("connected")) and not health.get("problem")
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        stats = await self._outbox()
        if stats is not None:
            metrics.OUTBOX_PENDING.set(stats.pending)
            metrics.OUTBOX_FAILED.set(stats.failed)
        metrics.CONNECTED.set(1 if self._health().get("connected") else 0)
        return web.Response(body=metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    # ---- the simulated WeChat ------------------------------------------------------------

    def _on_message(self, message) -> None:
        self._publish(_line(self.world, message, self._tz))

    def _publish(self, line: dict[str, Any]) -> None:
        self.lines.append(line)
        data = json.dumps(line, ensure_ascii=False)
        for ws in list(self.sockets):
            if not ws.closed:
                task = asyncio.ensure_future(ws.send_str(data))
                self._sends.add(task)  # kept until done, so none is collected half-sent
                task.add_done_callback(self._sends.discard)

    def _note(self, text: str, room: str | None = None, contact: str | None = None) -> None:
        """A grey line in a chat, as WeChat shows "X加入了群聊": what happened, not a message."""
        self._publish({"id": f"note-{next(self._notes)}", "kind": "system", "text": text, "from": contact,
                       "from_name": "", "room": room, "to": None, "at": self.world.clock.now().astimezone(self._tz).isoformat(),
                       "bot": False})

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE.read_text(encoding="utf-8"), content_type="text/html")

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        await self._inject_say(json.loads(msg.data))
                    except (KeyError, ValueError) as error:
                        await ws.send_str(json.dumps({"error": str(error)}, ensure_ascii=False))
        finally:
            self.sockets.discard(ws)
        return ws

    async def state(self, request: web.Request) -> web.Response:
        w = self.world
        roles = {c.contact_id: c.role for c in self.app.config.contacts} if self.app is not None else {}
        return web.json_response({
            "bot": {"id": w.bot.id, "name": w.bot.name},
            "rooms": [{"id": r.id, "name": r.topic, "members": [m for m in r.member_ids if m != w.bot.id]}
                      for r in w.rooms.values() if w.bot.id in r.member_ids],
            "contacts": [{"id": c.id, "name": c.name, "friend": c.friend,
                          "role": roles.get(c.id, "resident") if roles else None}
                         for c in w.contacts.values() if c.id != w.bot.id],
        })

    async def messages(self, request: web.Request) -> web.Response:
        return web.json_response(self.lines[int(request.query.get("since", 0)):])

    async def sent(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", 0))
        return web.json_response([{"id": s.id, "kind": s.kind, "text": s.text, "at": s.at.isoformat(),
                                   "room": s.room_id, "to": s.contact_id, "mentions": list(s.mention_ids)}
                                  for s in self.world.sent[since:]])

    async def media(self, request: web.Request) -> web.Response:
        message = self.world.messages.get(request.match_info["message_id"])
        if message is None or not message.data:
            raise web.HTTPNotFound(text="no such image or file")
        name = message.filename or message.id
        media_type = _media_type(name)
        shown = message.kind == "image" and media_type in INLINE_IMAGES
        return web.Response(body=message.data, headers={
            "Content-Type": media_type if shown else "application/octet-stream",
            "Content-Disposition": f"{'inline' if shown else 'attachment'}; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, max-age=3600",
        })

    async def _body(self, request: web.Request) -> dict:
        try:
            return await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="body must be JSON") from None

    def _sender_and_room(self, body: dict) -> tuple[str, str | None]:
        from bot.simulator.seed import ensure_contact, room_named

        sender = ensure_contact(self.world, body["from"]) if body.get("from") else body["from_id"]
        room = room_named(self.world, body["room"]) if body.get("room") else None
        return sender, room

    async def _inject_say(self, body: dict) -> str:
        sender, room = self._sender_and_room(body)
        mentions = [self.world.bot.id] if f"@{self.world.bot.name}" in body.get("text", "") else []
        return self.world.inject_message(sender, body.get("text", ""), room_id=room, mentions=mentions)

    async def say(self, request: web.Request) -> web.Response:
        try:
            return web.json_response({"id": await self._inject_say(await self._body(request))})
        except KeyError as error:
            return web.json_response({"error": str(error)}, status=400)

    async def upload(self, request: web.Request) -> web.Response:
        """A photo or file from the page: the bot gets it as an image/file message, as from WeChat."""
        try:
            fields, name, data = await _read_upload(request)
        except ValueError as error:
            return web.json_response({"error": str(error)}, status=400)
        kind = fields.get("kind", "file")
        if kind not in ("image", "file"):
            return web.json_response({"error": "kind must be image or file"}, status=400)
        try:
            sender, room = self._sender_and_room(fields)
            message_id = self.world.inject_message(sender, "", room_id=room, kind=kind, filename=name, data=data)
        except KeyError as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response({"id": message_id, "url": f"/media/{quote(message_id)}"})

    async def join(self, request: web.Request) -> web.Response:
        from bot.simulator.seed import ensure_contact, room_named

        body = await self._body(request)
        try:
            room = room_named(self.world, body["room"])
            names = [n.strip() for n in body.get("contacts", []) if n.strip()]
            ids = [ensure_contact(self.world, n) for n in names]
            inviter = ensure_contact(self.world, body["inviter"]) if body.get("inviter") else (ids[0] if ids else "")
            newcomers = [n for n, i in zip(names, ids) if i not in self.world.rooms[room].member_ids]
            self.world.inject_join(room, ids, inviter)
        except KeyError as error:
            return web.json_response({"error": str(error)}, status=400)
        if newcomers:
            by = self.world.contacts[inviter].name if body.get("inviter") else ""
            self._note(f"“{by}”邀请“{'、'.join(newcomers)}”加入了群聊" if by and by not in newcomers
                       else f"“{'、'.join(newcomers)}”加入了群聊", room=room)
        return web.json_response({"ok": True, "joined": newcomers})

    async def friend(self, request: web.Request) -> web.Response:
        from bot.simulator.seed import ensure_contact

        body = await self._body(request)
        if not str(body.get("from", "")).strip():
            return web.json_response({"error": "from: who asks to be friends"}, status=400)
        contact = ensure_contact(self.world, body["from"].strip(), friend=False)
        request_id = self.world.inject_friend_request(contact, body.get("hello", ""))
        hello = body.get("hello", "")
        self._note(f"“{self.world.contacts[contact].name}”请求添加助手为朋友" + (f"：{hello}" if hello else ""),
                   contact=contact)
        return web.json_response({"id": request_id, "contact": contact})

    async def invite(self, request: web.Request) -> web.Response:
        from bot.simulator.seed import ensure_contact

        body = await self._body(request)
        inviter = ensure_contact(self.world, body["inviter"])
        room_id = body.get("room_id") or f"room:{body['room']}"
        return web.json_response({"id": self.world.inject_room_invite(room_id, inviter, topic=body["room"])})


async def _read_upload(request: web.Request) -> tuple[dict[str, str], str, bytes]:
    """The form fields, the file's name and its bytes (at most MAX_UPLOAD) of a multipart upload."""
    if not request.content_type.startswith("multipart/"):
        raise ValueError("send the file as multipart/form-data")
    fields: dict[str, str] = {}
    name, data = "", None
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if part.name != "file":
            fields[part.name] = await part.text()
            continue
        # Browsers send the name as UTF-8; aiohttp's own client percent-encodes it.
        name, chunks, size = unquote(part.filename or "file"), [], 0
        while chunk := await part.read_chunk():
            size += len(chunk)
            if size > MAX_UPLOAD:
                raise ValueError(f"file larger than {MAX_UPLOAD // (1024 * 1024)} MB")
            chunks.append(chunk)
        data = b"".join(chunks)
    if not data:
        raise ValueError("no file, or an empty one")
    return fields, name, data


def now_unix() -> float:
    return time.time()
