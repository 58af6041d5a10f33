"""The bot against puppet services nobody here wrote: the Node wechaty-puppet-service over
wechaty-puppet-mock, 0.21 (plain gRPC) and 1.19 (TLS, token checked), each test on both.

What the bot did is what arrived at the Node puppet over gRPC (serve.js prints one line per
puppet call); what residents did goes in through serve.js's stdin. Real time, real processes.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.tips import TipAttachment
from tests.interop_bot import BOT_NAME, GENERATIONS, ROOM, interop_bot, node_service  # noqa: F401 - fixture

# Each test on each generation; one serve.js per generation serves the whole module.
pytestmark = pytest.mark.parametrize("node_service", GENERATIONS, indirect=True, scope="module")


@pytest.fixture(autouse=True)
def own_folders(tmp_path, monkeypatch):
    """The SDK's cache and the tips' decrypted files in this test's folder (the defaults are shared)."""
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "wechaty"))
    monkeypatch.setattr("handlers.tips.attachments.ATTACHMENT_DIR", tmp_path / "tip-files")


async def test_help_is_answered_in_private(node_service, tmp_path):
    async with interop_bot(node_service, tmp_path) as bot:
        since = bot.mark()
        await bot.say("wx_wang", "/帮助")
        reply = await bot.reply_to("wx_wang", since)
        assert BOT_NAME in reply["text"] and "110" in reply["text"]
        assert reply["mentions"] == []


async def test_a_question_in_the_residents_group_gets_the_guide_answer(node_service, tmp_path):
    async with interop_bot(node_service, tmp_path) as bot:
        since = bot.mark()
        await bot.say("wx_wang", f"@{BOT_NAME} 办居住证要带什么", room=ROOM)
        reply = await bot.reply_to(ROOM, since)
        assert reply["text"].startswith("@王阿姨\u2005")
        assert "租房合同或房产证明" in reply["text"] and "一寸照片" in reply["text"]
        assert reply["mentions"] == ["wx_wang"]


async def test_a_friend_request_is_accepted_and_greeted(node_service, tmp_path):
    async with interop_bot(node_service, tmp_path) as bot:
        since = bot.mark()
        request = await bot.service.command("friendship", **{"from": "wx_wu", "name": "小吴", "hello": "我是3号楼的"})
        accepted = await bot.service.wait_line(lambda line: line.get("call") == "friendshipAccept", since)
        assert accepted["id"] == request["id"]
        greeting = await bot.reply_to("wx_wu", since)
        assert "很高兴认识您" in greeting["text"] and "可以帮您" in greeting["text"]
        assert bot.service.lines.index(accepted) < bot.service.lines.index(greeting)


async def test_a_newcomer_to_the_group_is_welcomed(node_service, tmp_path, monkeypatch):
    import handlers.welcome

    monkeypatch.setattr(handlers.welcome, "MERGE_WINDOW", timedelta(seconds=0.3))
    async with interop_bot(node_service, tmp_path) as bot:
        since = bot.mark()
        await bot.service.command("join", room=ROOM, members=["wx_zhou"], inviter="wx_zhang")
        welcome = await bot.reply_to(ROOM, since)
        assert "欢迎 小周 加入本群" in welcome["text"]


@pytest.mark.parametrize("shape", ["data", "error", "none"])
async def test_after_an_error_event_questions_are_still_answered(node_service, shape, tmp_path):
    async with interop_bot(node_service, tmp_path) as bot:
        await bot.service.command("error", shape=shape, data="mock puppet failure")
        since = bot.mark()
        await bot.say("wx_chen", "办居住证要带什么")  # at once: a reconnect now would lose it
        reply = await bot.reply_to("wx_chen", since)
        assert "租房合同或房产证明" in reply["text"]
        assert bot.transport.connected and bot.transport.logins == 1


async def test_a_photo_sent_as_a_url_arrives_in_the_tip_dialog(node_service, tmp_path):
    async with interop_bot(node_service, tmp_path) as bot:
        since = bot.mark()
        await bot.say("wx_wang", "举报")
        assert "1. 诈骗/经济犯罪" in (await bot.reply_to("wx_wang", since))["text"]
        since = bot.mark()
        await bot.say("wx_wang", "1")
        assert "可以发照片" in (await bot.reply_to("wx_wang", since))["text"]

        since = bot.mark()
        photo = await bot.service.command("image", **{"from": "wx_wang", "name": "收款码.png"})
        served = await bot.service.wait_line(lambda line: "served" in line, since)
        assert served["served"] in photo["url"]
        assert "已收到1个附件" in (await bot.reply_to("wx_wang", since))["text"]

        for said in ("这是骗子发来的收款码", "跳过", "保密"):
            since = bot.mark()
            await bot.say("wx_wang", said)
            summary = await bot.reply_to("wx_wang", since)
        assert "附件：1个" in summary["text"]
        since = bot.mark()
        await bot.say("wx_wang", "确认")
        assert re.search(r"查询码：[\d ]+", (await bot.reply_to("wx_wang", since, "线索已收到"))["text"])
        async with bot.app.sessions() as session:
            [kept] = (await session.execute(select(TipAttachment))).scalars().all()
        assert kept.size == served["bytes"]


async def test_the_service_killed_and_restarted_the_bot_reconnects_and_answers(node_service, tmp_path):
    async with interop_bot(node_service, tmp_path) as bot:
        bot.service.kill()
        await bot.until(lambda: not bot.transport.connected, what="the bot noticed the service was gone")
        await asyncio.to_thread(bot.service.start)  # on the same port
        await bot.until(lambda: bot.transport.connected, what="the bot logged in to the restarted service")
        assert bot.transport.logins == 2
        since = bot.mark()
        await bot.say("wx_wang", "/帮助")
        reply = await bot.reply_to("wx_wang", since)
        assert BOT_NAME in reply["text"]
