"""The console in a real browser (Playwright + Debian's chromium) at a desk (1280 px) and on a phone
(390 px): the officer logs in, answers a consultation and the resident receives it in the
simulated WeChat's chat page, replies to a tip, closes a day of bookings. Screenshots go to $JINGMIN_CONSOLE_SHOTS (default /tmp/console-shots)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from bot.clock import FakeClock
from tests.console_fixtures import PASSWORDS, console_bot
from tests.test_console import _converse
from tests.sdk_fixtures import sdk_cache_dir  # noqa: F401 - fixture
from tests.test_web_browser import (
    CHROMIUM, CHROMIUM_ARGS, DESK, MORNING, MS, PHONE, _chinese_fonts, _need_browser, bot_says, open_chat, say,
)

SHOTS = Path(os.environ.get("JINGMIN_CONSOLE_SHOTS", "/tmp/console-shots"))
QUESTION = "请问一下结婚登记要去哪里办呀"  # no entry of the guide: it waits for the officer


@contextlib.asynccontextmanager
async def browser_at(tmp_path, width: int):
    _need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=_chinese_fonts(tmp_path))
        try:
            context = await browser.new_context(viewport={"width": width, "height": 844 if width == PHONE else 800},
                                                device_scale_factor=2 if width == PHONE else 1)
            context.set_default_timeout(MS)
            yield context
        finally:
            await browser.close()


async def shot(page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


async def no_sideways_scroll(page) -> None:
    """Usable on a phone: the page itself never scrolls sideways (wide tables scroll in their box)."""
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", [DESK, PHONE])
async def test_officer_answers_a_consultation_and_the_resident_receives_it(tmp_path, width):
    clock = FakeClock(MORNING)  # a Monday: tomorrow can be booked
    async with console_bot(tmp_path, clock=clock) as (bot, base), browser_at(tmp_path, width) as context:
        await _converse(bot, clock, "王阿姨", [QUESTION])
        await _converse(bot, clock, "陈大爷", ["举报", "2", "5号楼地下室晚上经常有人聚在一起吸毒", "跳过", "保密", "确认"])
        await _converse(bot, clock, "小周", ["预约", "居住证", "明天", "1", "周小敏", "13812345678", "确认"])
        console = await context.new_page()
        errors: list = []
        console.on("pageerror", lambda error: errors.append(error))
        await console.goto(f"{base}/console/questions")
        assert console.url.endswith("/console/login")  # not logged in: sent to the login page
        await shot(console, "login", width)
        await console.fill("input[name=name]", "张所")
        await console.fill("input[name=password]", PASSWORDS["张所"])
        await console.click("button[type=submit]")
        await console.wait_for_selector("text=等您处理")
        await no_sideways_scroll(console)
        await shot(console, "overview", width)

        await console.click("nav >> text=咨询和纠纷")
        item = console.locator("article.item", has_text=QUESTION)
        await item.wait_for()
        await no_sideways_scroll(console)
        await shot(console, "questions", width)
        await item.locator("textarea").fill("请带老人户口本和子女房产证来警务室")
        await item.locator("button", has_text="回复").click()
        await console.wait_for_selector(".flash.ok >> text=已把答复发给王阿姨")
        assert await console.locator("article.item", has_text=QUESTION).count() == 0
        await shot(console, "answered", width)

        chat = await context.new_page()
        chat.on("pageerror", lambda error: errors.append(error))
        await chat.goto(f"{base}/")
        await chat.wait_for_selector("body[data-ready='1']")
        await open_chat(chat, f"contact:{bot.contact('王阿姨')}", width)
        reply = await bot_says(chat, "请带老人户口本和子女房产证来警务室")
        assert "社区民警回复" in await reply.text_content()
        await chat.screenshot(path=str(SHOTS / f"resident-chat-{width}.png"))

        await console.click("nav >> text=线索")
        tip = console.locator("article.item", has_text="吸毒")
        await tip.locator("input[name=text]").first.fill("已收到，正在核实")
        await tip.locator("button", has_text="回复").click()
        await console.wait_for_selector(".flash.ok >> text=转给线索 #1")
        await bot.until(lambda: any("民警回复：已收到，正在核实" in s.text for s in bot.world.sent))
        await shot(console, "tips", width)

        await console.goto(f"{base}/console/bookings?day=2026-12-08")
        day = console.locator("section.day", has_text="周小敏")
        await shot(console, "bookings", width)
        await day.locator("input[name=reason]").fill("民警外出开会")
        await day.locator("button", has_text="关闭这一天").click()
        await console.wait_for_selector("text=已关闭（民警外出开会）")
        await bot.until(lambda: any(s.contact_id == bot.contact("小周") and "民警外出开会" in s.text
                                    for s in bot.world.sent))
        await shot(console, "bookings-closed", width)

        for name in ("schedules", "groups", "registers", "audit"):
            await console.goto(f"{base}/console/{name}")
            await no_sideways_scroll(console)
            await shot(console, name, width)
        assert errors == []


async def logged_in(context, base: str, name: str, errors: list):
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(error))
    await page.goto(f"{base}/console")  # typed without the slash
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", PASSWORDS[name])
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=等您处理")
    return page


@pytest.mark.parametrize("width", [DESK, PHONE])
async def test_officer_changes_a_guide_answer_and_the_next_resident_gets_it(tmp_path, width):
    from tests.test_console import NEW_HOURS

    async with console_bot(tmp_path, clock=FakeClock(MORNING)) as (bot, base), \
            browser_at(tmp_path, width) as context:
        errors: list = []
        console = await logged_in(context, base, "张所", errors)
        await console.click("nav >> text=服务指南")
        await console.wait_for_selector("table.guide")
        await no_sideways_scroll(console)
        await shot(console, "guide", width)
        await console.fill("input[name=q]", "警务室几点上班")
        await console.locator("form[role=search] button").click()
        found = console.locator("tr[data-id='office-hours']")
        assert "居民这样问会用这条回答" in await found.text_content()
        await shot(console, "guide-search", width)
        await found.locator("td.title a").click()
        await console.wait_for_selector("text=居民收到的回答")
        await no_sideways_scroll(console)
        await shot(console, "guide-entry", width)
        await console.fill("textarea[name=answer]", NEW_HOURS)
        await console.locator("button", has_text="保存回答").click()
        await console.wait_for_selector(".flash.ok >> text=已修改指南 office-hours")
        assert NEW_HOURS in await console.locator("pre.answer-text").text_content()
        await console.fill("textarea[name=questions]", "警务室中午有人吗")
        await console.locator("button", has_text="加上问法").click()
        await console.wait_for_selector(".flash.ok >> text=加上 1 个问法")
        await console.locator("ul.asked li", has_text="警务室中午有人吗").locator("button", has_text="去掉").wait_for()
        await no_sideways_scroll(console)
        await shot(console, "guide-edited", width)

        chat = await context.new_page()
        chat.on("pageerror", lambda error: errors.append(error))
        await chat.goto(f"{base}/")
        await chat.wait_for_selector("body[data-ready='1']")
        await open_chat(chat, f"contact:{bot.contact('陈大爷')}", width)
        await say(chat, "警务室什么时候上班")
        reply = await bot_says(chat, "中午不休息")
        assert NEW_HOURS in await reply.text_content()
        await chat.screenshot(path=str(SHOTS / f"resident-guide-{width}.png"))
        assert errors == []


@pytest.mark.parametrize("width", [DESK, PHONE])
async def test_a_district_account_reads_the_district_and_switches_bots(tmp_path, width):
    from tests.test_console import _chunhui_spoke, _district_file

    await _chunhui_spoke(tmp_path)
    async with console_bot(tmp_path, clock=FakeClock(MORNING), district=_district_file(tmp_path)) as (bot, base), \
            browser_at(tmp_path, width) as context:
        errors: list = []
        console = await logged_in(context, base, "分局", errors)
        await console.wait_for_selector("text=正在查看 xingfuli 的统计")
        await console.click("nav >> text=全区统计")
        await console.wait_for_selector("tr[data-bot='chunhui']")
        await no_sideways_scroll(console)
        await shot(console, "district", width)
        await console.select_option("form.switcher select", "chunhui")
        await console.locator("form.switcher button").click()
        await console.wait_for_selector("text=正在查看 chunhui 的统计")
        assert "3" in await console.locator("table.bars tbody tr", has_text="群消息").text_content()
        await no_sideways_scroll(console)
        await shot(console, "district-bot", width)
        await console.click("nav >> text=全区统计")
        await console.locator("tr[data-bot='xingfuli'] button").click()  # a bot's name goes to its overview
        await console.wait_for_selector("text=正在查看 xingfuli 的统计")
        assert errors == []
