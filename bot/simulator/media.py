"""The simulated WeChat's CDN: a tiny HTTP server on 127.0.0.1 serving what people send.

CDN-backed puppets answer MessageImage / MessageFile with a URL FileBox the client downloads;
this server makes those URLs real. It serves every message of the world that has bytes (what
residents send and what the bot sends, so the web chat page can show both) and room avatars.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
from urllib.parse import quote, urlsplit

from aiohttp import web

from bot.simulator.world import TINY_PNG, SimWorld

log = logging.getLogger(__name__)

# FileBox JSON boxType values (wechaty_puppet.FileBoxType, the Node file-box's FileBoxType).
BOX_BASE64 = 1
BOX_URL = 2


def base64_filebox(name: str, data: bytes) -> str:
    """A base64 FileBox, as FileBox.from_base64(...).to_json_str() writes it."""
    return json.dumps({"boxType": BOX_BASE64, "name": name, "base64": base64.b64encode(data).decode(),
                       "metadata": {}})


def url_filebox(name: str, url: str) -> str:
    """A URL FileBox, as FileBox.from_url(url, name).to_json_str() writes it (boxType 2,
    remoteUrl, headers). FileBox.from_json() rebuilds it without any download."""
    mime = mimetypes.guess_type(name)[0]
    return json.dumps({"boxType": BOX_URL, "name": name, "remoteUrl": url, "headers": None,
                       "mediaType": mime, "mimeType": mime, "metadata": {}}, ensure_ascii=False)


class MediaServer:
    def __init__(self, world: SimWorld) -> None:
        self.world = world
        self.port: int | None = None
        self.url_host = "127.0.0.1"
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.url_host}:{self.port}"

    async def start(self, host: str = "127.0.0.1") -> None:
        """Listen on a free port the first time, on the same port after a stop(): URLs handed
        out before a gateway restart stay valid, as a CDN's do."""
        app = web.Application()
        app.router.add_get("/files/{message_id}/{name}", self._file)  # SimWorld.media_url
        app.router.add_get("/avatar/{owner_id}.png", self._avatar)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, self.port or 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - aiohttp has no bound-port API
        self.url_host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
        self.world.media_base = self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.world.media_base = None

    def avatar_url(self, owner_id: str) -> str:
        return f"{self.base_url}/avatar/{quote(owner_id)}.png"

    def content_of(self, box: dict) -> bytes:
        """The bytes in a FileBox the bot sent: base64 inline, or a URL this server serves
        (a forwarded image). Other URLs give nothing: the simulator stays off the network."""
        if box.get("boxType") == BOX_URL:
            parts = urlsplit(box.get("remoteUrl") or "")
            path = parts.path.split("/")
            if parts.port == self.port and len(path) == 4 and path[1] == "files":
                message = self.world.messages.get(path[2])
                return message.data if message is not None else b""
            log.info("simulator does not download a FileBox from another host")
            return b""
        try:
            return base64.b64decode(box.get("base64") or b"")
        except ValueError:
            return b""

    async def _file(self, request: web.Request) -> web.StreamResponse:
        message = self.world.messages.get(request.match_info["message_id"])
        if message is None or not (message.data or message.kind in ("image", "file")):
            raise web.HTTPNotFound()
        name = message.filename or message.id
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return web.Response(body=message.data, content_type=mime)

    async def _avatar(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=TINY_PNG, content_type="image/png")
