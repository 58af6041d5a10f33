"""The console over HTTP: the real App over the real SDK against the simulated WeChat (live_bot),
the bot's web server with the console mounted, and an HTTP client that keeps its cookie."""

from __future__ import annotations

import contextlib
import re

import aiohttp

from bot.plugins import available
from handlers.console.accounts import save_account
from tests.sdk_fixtures import live_bot

CONSOLE_PLUGIN = "handlers.console:plugin"  # by path: the shared venv's entry points predate the console
PASSWORDS = {"张所": "jingwu-2026!", "小刘": "fujing-2026!", "分局": "fenju-2026!"}
ROLES = {"张所": "officer", "小刘": "staff", "分局": "district"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def plugins_with_console() -> list[str]:
    return [*available(), CONSOLE_PLUGIN] if "console" not in available() else available()


class Browser:
    """An HTTP client as a browser would be: one cookie jar, and the csrf token of the last page."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # 127.0.0.1 is an IP
        self.csrf = ""

    async def get(self, path: str, **kw) -> tuple[int, str]:
        async with self.http.get(self.base + path, allow_redirects=kw.pop("follow", True), **kw) as r:
            text = await r.text()
            self.last_url = str(r.url)
            if found := _CSRF.search(text):
                self.csrf = found.group(1)
            return r.status, text

    async def post(self, path: str, data: dict, *, csrf: bool = True, follow: bool = True) -> tuple[int, str]:
        body = {**data, **({"csrf_token": self.csrf} if csrf else {})}
        async with self.http.post(self.base + path, data=body, allow_redirects=follow) as r:
            text = await r.text()
            self.last_url, self.location = str(r.url), r.headers.get("Location", "")
            if found := _CSRF.search(text):
                self.csrf = found.group(1)
            return r.status, text

    async def login(self, name: str, password: str | None = None) -> tuple[int, str]:
        await self.get("/console/login")
        return await self.post("/console/login", {"name": name, "password": password or PASSWORDS[name]})

    async def close(self) -> None:
        await self.http.close()


@contextlib.asynccontextmanager
async def console_bot(tmp_path, **kw):
    """(bot, base url): the bot with three console accounts and its web server listening."""
    from bot.web import WebServer

    async with live_bot(f"sqlite+aiosqlite:///{tmp_path / 'j.db'}", tmp_path, plugins=plugins_with_console(),
                        **kw) as bot:
        async with bot.app.sessions.begin() as session:
            for name, password in PASSWORDS.items():
                await save_account(session, bot.app.name, name, ROLES[name], password, bot.app.clock.now())
        server = WebServer(bot.app, bot.transport, bot.world)
        port = await server.start("127.0.0.1", 0)
        try:
            yield bot, f"http://127.0.0.1:{port}"
        finally:
            await server.stop()


@contextlib.asynccontextmanager
async def browser(base: str):
    b = Browser(base)
    try:
        yield b
    finally:
        await b.close()
