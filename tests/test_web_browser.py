"""One real browser (Playwright + Debian's chromium): the officer sends /帮助 in a room on the web
chat page and sees the bot's reply appear live. Skipped, with the reason, when chromium or
playwright is missing, except on CI (CI=true), where that is a failure."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.sdk_fixtures import live_bot, sdk_cache_dir  # noqa: F401 - fixture

CHROMIUM = "/usr/bin/chromium"


def _need_browser():
    missing = None
    try:
        from playwright.async_api import async_playwright  # noqa: F401
    except ImportError:
        missing = "playwright is not installed (pip install -e '.[dev]')"
    if missing is None and not shutil.which(CHROMIUM):
        missing = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)


async def test_officer_sends_help_in_a_room_and_sees_the_reply(tmp_path):
    _need_browser()
    from playwright.async_api import async_playwright

    from bot.web import WebServer

    async with live_bot(f"sqlite+aiosqlite:///{tmp_path / 'j.db'}", tmp_path) as bot:
        server = WebServer(bot.app, bot.transport, bot.world)
        port = await server.start("127.0.0.1", 0)
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-dev-shm-usage"])
                page = await browser.new_page()
                await page.goto(f"http://127.0.0.1:{port}/")
                await page.wait_for_selector("body[data-ready='1']", timeout=15000)
                await page.click(f".chat[data-key='room:{bot.room('幸福里居民群')}']")
                await page.select_option("#speaker", "张警官")
                await page.fill("#text", "/帮助")
                await page.press("#text", "Enter")
                reply = page.locator(".msg.bot .body")
                await reply.first.wait_for(timeout=15000)
                assert "警民群助手" in await reply.first.text_content()
                await browser.close()
        finally:
            await server.stop()
