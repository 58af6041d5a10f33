"""The web chat page in a real browser (Playwright + Debian's chromium), at a desk (1280 px) and on
a phone (390 px), against the bot over the real wechaty SDK and the simulated WeChat.

Skipped, with the reason, when chromium or playwright is missing, except on CI (CI=true), where
that is a failure. Screenshots go to $JINGMIN_SCREENSHOTS (default /tmp/jingmin-web)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import SHANGHAI
from tests.sdk_fixtures import WAIT, live_bot, sdk_cache_dir  # noqa: F401 - fixture

CHROMIUM = "/usr/bin/chromium"
# As root, headless, and never calling home.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
SHOTS = Path(os.environ.get("JINGMIN_SCREENSHOTS", "/tmp/jingmin-web"))
MORNING = datetime(2026, 12, 7, 9, 30, tzinfo=SHANGHAI)  # a Monday, outside quiet hours
PHONE, DESK = 390, 1280
MS = int(WAIT * 1000)


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


def _chinese_fonts(tmp_path: Path) -> dict[str, str]:
    """Chromium finds fonts through fontconfig; a bare machine has no Chinese font, so the
    screenshots would show boxes. matplotlib's mplfonts (a dependency) ships Noto Sans CJK SC."""
    import mplfonts

    fonts = Path(mplfonts.__file__).parent / "fonts"
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{fonts}</dir>
<cachedir>{tmp_path / 'fontcache'}</cachedir></fontconfig>""", encoding="utf-8")
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def _photo(width: int = 320, height: int = 200) -> bytes:
    """A real-looking photo (a gradient with a red box), so the screenshot shows what was sent."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        draw.line([(0, y), (width, y)], fill=(90 + y // 3, 140 + y // 4, 200 - y // 4))
    draw.rectangle([width // 3, height // 3, width * 2 // 3, height * 3 // 4], fill=(200, 60, 50))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def bot_on(tmp_path, clock):
    """live_bot with a FakeClock shared by the bot and the simulated WeChat: the page shows its
    times, and a test moves it past the one-minute wait of a welcome."""
    return live_bot(f"sqlite+aiosqlite:///{tmp_path / 'j.db'}", tmp_path, clock=clock, wired=True)


@contextlib.asynccontextmanager
async def chat_page(tmp_path, width: int):
    """The bot, the web server, and the page loaded at `width` px; yields (bot, page, clock)."""
    _need_browser()
    from playwright.async_api import async_playwright

    from bot.clock import FakeClock
    from bot.web import WebServer

    clock = FakeClock(MORNING)
    async with bot_on(tmp_path, clock) as bot:
        server = WebServer(bot.app, bot.transport, bot.world)
        port = await server.start("127.0.0.1", 0)
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                   env=_chinese_fonts(tmp_path))
                try:
                    height = 844 if width == PHONE else 800
                    page = await browser.new_page(viewport={"width": width, "height": height},
                                                  device_scale_factor=2 if width == PHONE else 1)
                    page.set_default_timeout(MS)
                    errors: list = []
                    page.on("pageerror", lambda error: errors.append(error))
                    await page.goto(f"http://127.0.0.1:{port}/")
                    await page.wait_for_selector("body[data-ready='1']")
                    yield bot, page, clock
                    assert errors == [], "the page's script failed"
                finally:
                    await browser.close()
        finally:
            await server.stop()


async def open_chat(page, key: str, width: int) -> None:
    """Click a chat in the list; on a phone the list is a drawer, opened by ☰ when closed."""
    if width == PHONE and not await _list_open(page):
        await toggle_list(page, opened=True)
    await page.click(f".chat[data-key='{key}']")
    if width == PHONE:
        await _slid(page, opened=False)


async def toggle_list(page, opened: bool) -> None:
    await page.click("#toggle")
    await _slid(page, opened)


async def _slid(page, opened: bool) -> None:
    """Wait until the drawer finished sliding in (its left edge at 0) or out (its right edge at 0)."""
    edge = "r.left === 0" if opened else "r.right <= 0"
    await page.wait_for_function(f"(() => {{ const r = document.querySelector('#side').getBoundingClientRect(); return {edge}; }})()")


async def _list_open(page) -> bool:
    box = await page.locator("#side").bounding_box()
    return box is not None and box["x"] + box["width"] > 1


async def say(page, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


async def bot_says(page, words: str):
    """The bot's message in the open chat containing `words`, once it arrived."""
    reply = page.locator(".msg.bot .body", has_text=words)
    await reply.last.wait_for()
    return reply.last


async def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


async def test_officer_sends_help_in_a_room_and_sees_the_reply(tmp_path):
    async with chat_page(tmp_path, DESK) as (bot, page, clock):
        await open_chat(page, f"room:{bot.room('幸福里居民群')}", DESK)
        await page.select_option("#speaker", "张警官")
        await say(page, "/帮助")
        reply = await bot_says(page, "警民群助手")
        assert "警民群助手" in await reply.text_content()


@pytest.mark.parametrize("width", [DESK, PHONE])
async def test_resident_sends_a_photo_and_a_file_in_the_tip_dialog(tmp_path, width):
    photo = _photo()
    async with chat_page(tmp_path, width) as (bot, page, clock):
        if width == PHONE:  # a phone starts on the list, as WeChat does
            assert await _list_open(page)
        await open_chat(page, f"contact:{bot.contact('王阿姨')}", width)
        assert await _list_open(page) == (width == DESK), "beside the chat at a desk, folded away on a phone"
        # The page speaks as a resident by default, not as the officer.
        assert await page.input_value("#speaker") == "王阿姨"

        await say(page, "举报")
        await bot_says(page, "是哪一类")
        await say(page, "1")
        await bot_says(page, "可以打字，也可以发照片")
        await page.click("#plus")
        await shot(page, f"plus-panel-{width}")
        await page.set_input_files("#photo-input", files=[
            {"name": "楼道堆物.png", "mimeType": "image/png", "buffer": photo}])
        sent = page.locator(".msg.own img.photo")
        await sent.wait_for()
        await page.wait_for_function("document.querySelector('.msg.own img.photo').naturalWidth === 320")
        await bot_says(page, "已收到1个附件")
        # The bot got the photo's bytes, and the page shows them from the simulator's server.
        [message] = [m for m in bot.world.messages.values() if m.kind == "image"]
        assert (message.filename, message.data, message.from_id) == ("楼道堆物.png", photo, bot.contact("王阿姨"))
        served = await page.request.get(await sent.evaluate("img => img.src"))
        assert served.headers["content-type"] == "image/png" and await served.body() == photo

        await page.click("#plus")
        await page.set_input_files("#file-input", files=[
            {"name": "情况说明.txt", "mimeType": "text/plain", "buffer": "昨晚十点楼道里有人撬门".encode()}])
        link = page.locator(".msg.own a.file")
        await link.wait_for()
        assert "情况说明.txt" in await link.text_content()
        assert await link.get_attribute("download") == "情况说明.txt"
        download = await page.request.get(await link.evaluate("a => a.href"))
        assert download.headers["content-disposition"].startswith("attachment")
        assert (await download.body()).decode() == "昨晚十点楼道里有人撬门"
        await bot_says(page, "已收到2个附件")

        await _own_right_bot_left(page, width)
        times = await page.locator(".msg .time").all_text_contents()
        assert times and all(t == "09:30" for t in times)
        await shot(page, f"tip-photo-{width}")


async def _own_right_bot_left(page, width: int) -> None:
    own = await page.locator(".msg.own .body").last.bounding_box()
    theirs = await page.locator(".msg.bot .body").last.bounding_box()
    assert own["x"] + own["width"] > width * 0.6, "own messages stand on the right"
    assert theirs["x"] < width * 0.4, "the bot's messages stand on the left"
    assert own["x"] + own["width"] <= width and theirs["x"] >= 0
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [DESK, PHONE])
async def test_a_join_simulated_from_the_page_is_shown_and_welcomed(tmp_path, width):
    async with chat_page(tmp_path, width) as (bot, page, clock):
        room = bot.room("幸福里居民群")
        await open_chat(page, f"room:{room}", width)
        if width == PHONE:
            await toggle_list(page, opened=True)
        await page.click("#sim-join")
        assert await page.input_value("#join-room") == room
        assert await page.input_value("#join-inviter") == "王阿姨"
        await page.fill("#join-names", "新居民小吴")
        await shot(page, f"join-dialog-{width}")
        await page.click("#join-dialog button[value='ok']")
        await page.locator(".note", has_text="“王阿姨”邀请“新居民小吴”加入了群聊").wait_for()
        assert bot.contact("新居民小吴") in bot.world.rooms[room].member_ids
        # Newcomers within a minute share one welcome: it comes when the minute is over.
        await bot.until(lambda: bot.app.scheduler.next_run(f"welcome:{room}") is not None)
        clock.advance(timedelta(seconds=61))
        welcome = await bot_says(page, "欢迎 新居民小吴 加入本群")
        assert "欢迎 新居民小吴 加入本群" in await welcome.text_content()
        assert "新居民小吴" in await page.locator("#speaker option").all_text_contents()
        await shot(page, f"join-{width}")


@pytest.mark.parametrize("width", [DESK, PHONE])
async def test_friend_request_from_the_page_and_unread_markers(tmp_path, width):
    async with chat_page(tmp_path, width) as (bot, page, clock):
        if width == PHONE:
            assert await _list_open(page)
        else:
            await open_chat(page, f"contact:{bot.contact('王阿姨')}", width)
        await page.click("#sim-friend")
        await page.fill("#friend-name", "新居民小郑")
        await page.fill("#friend-hello", "你好，我是5号楼的")
        await page.click("#friend-dialog button[value='ok']")
        await page.locator(".note", has_text="“新居民小郑”请求添加助手为朋友：你好，我是5号楼的").wait_for()
        await bot_says(page, "很高兴认识您")
        assert await page.input_value("#speaker") == "新居民小郑"
        assert await page.text_content("#title") == "新居民小郑"

        # Someone writes in another chat: its entry gets a red count, and ☰ on a phone too.
        room = bot.room("幸福里居民群")
        bot.world.inject_message(bot.contact("陈大爷"), "今天警务室几点上班？", room_id=room)
        badge = page.locator(f".chat[data-key='room:{room}'] .badge")
        await page.wait_for_function(f"document.querySelector(\".chat[data-key='room:{room}'] .badge\").textContent !== ''")
        assert int(await badge.text_content()) >= 1
        if width == PHONE:
            assert int(await page.text_content("#toggle-badge")) >= 1
            await toggle_list(page, opened=True)
        preview = await page.text_content(f".chat[data-key='room:{room}'] .preview")
        await shot(page, f"unread-{width}")
        assert preview.startswith("陈大爷：") or preview.startswith("警民群助手：")
        await open_chat(page, f"room:{room}", width)
        assert await badge.text_content() == ""
        assert await page.locator(".msg", has_text="今天警务室几点上班？").count() == 1


async def test_on_a_phone_the_list_collapses_and_the_chat_is_usable(tmp_path):
    async with chat_page(tmp_path, PHONE) as (bot, page, clock):
        viewport = await page.evaluate("document.querySelector('meta[name=viewport]').content")
        assert viewport.startswith("width=device-width")
        await open_chat(page, f"room:{bot.room('幸福里3号楼群')}", PHONE)
        toggle = await page.locator("#toggle").bounding_box()
        assert toggle is not None and toggle["width"] >= 24, "the list folds into ☰"
        text, send = await page.locator("#text").bounding_box(), await page.locator("#send").bounding_box()
        assert text["width"] > 150 and send["x"] + send["width"] <= PHONE
        await page.select_option("#speaker", "赵楼长")
        await say(page, "/帮助")
        await bot_says(page, "警民群助手")
        size = await page.evaluate("getComputedStyle(document.querySelector('.msg .body')).fontSize")
        assert float(size.rstrip("px")) >= 14, "messages readable without zooming"
        await _own_right_bot_left(page, PHONE)
        await shot(page, "phone-chat")
        await toggle_list(page, opened=True)
        await shot(page, "phone-list")
        side = await page.locator("#side").bounding_box()
        assert side["width"] >= 280, "the open list is wide enough to read, not a 17 px strip"


async def test_the_page_reconnects_and_shows_what_came_meanwhile_once(tmp_path):
    async with chat_page(tmp_path, DESK) as (bot, page, clock):
        room = bot.room("幸福里居民群")
        await open_chat(page, f"room:{room}", DESK)
        await page.evaluate("ws.close()")
        await page.wait_for_selector("body[data-ready='0']")
        bot.world.inject_message(bot.contact("小周"), "断线时说的话", room_id=room)
        await page.wait_for_selector("body[data-ready='1']")
        await page.locator(".msg .body", has_text="断线时说的话").wait_for()
        await page.wait_for_timeout(300)
        assert await page.locator(".msg .body", has_text="断线时说的话").count() == 1
