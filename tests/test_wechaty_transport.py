"""The bot over the real wechaty SDK and real gRPC, against the simulated WeChat on 127.0.0.1."""

from __future__ import annotations

import asyncio

from tests.sdk_fixtures import live_bot, sdk_cache_dir  # noqa: F401 - fixture


async def test_room_command_gets_a_reply_in_the_room(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'j.db'}"
    async with live_bot(url, tmp_path) as bot:
        bot.say("张警官", "/帮助", room="幸福里居民群")
        [reply] = await bot.wait_sent(1)
        assert reply.room_id == bot.room("幸福里居民群")
        assert reply.mention_ids == (bot.contact("张警官"),)
        assert reply.text.startswith("@张警官\u2005")
        assert "警民群助手" in reply.text and "/帮助" in reply.text
