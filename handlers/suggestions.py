"""意见建议: a suggestion (or a message starting with “建议：”) is thanked, recorded and counted;
officers list them with /建议 and answer with /建议 回复 N 文本."""

from __future__ import annotations

import re

from bot.context import Context
from bot.masking import mask_text
from bot.plugin import STAFF, Plugin
from handlers.followup import FollowupTexts, list_or_answer, meant_for_us, preview, where_asked
from handlers.intents import Classification
from storage.understanding import Suggestion

plugin = Plugin("suggestions", order=110)
plugin.menu_item("说“建议：……”，给社区提意见建议")

TEXTS = {
    "thanks": "谢谢您的建议！已经记下来了，社区民警会认真看，有回复会告诉您。",
    "empty_prefix": "请在“建议：”后面写上您的建议，比如“建议：小区门口加个路灯”。",
    "officer_notice": "居民建议 #{id}（{where}，{name}）：{text}\n回复请发：/建议 回复 {id} 您的答复",
    "list_empty": "目前没有待回复的建议。",
    "list_head": "待回复的建议（共{n}条）：",
    "to_resident": "关于您提的建议“{text}”，社区民警回复：{answer}",
    "done": "已把答复发给{name}（建议 #{id}）。",
    "not_found": "没有编号为 {id} 的建议。发送 /建议 查看待回复的建议。",
    "already": "建议 #{id} 已经回复过了。",
    "usage": "回复请发：/建议 回复 编号 答复内容",
}
FOLLOWUP = FollowupTexts(TEXTS["list_empty"], TEXTS["list_head"], TEXTS["to_resident"],
                         TEXTS["done"], TEXTS["not_found"], TEXTS["already"], TEXTS["usage"])


@plugin.phrase(r"^\s*建议\s*[：:]")
async def explicit(ctx: Context, match: re.Match) -> bool:
    body = ctx.text[match.end():].strip()
    if not body:
        await ctx.reply(TEXTS["empty_prefix"])
        return True
    await _record(ctx, body)
    return True


@plugin.intent("suggestion")
async def understood(ctx: Context, found: Classification) -> bool:
    if not meant_for_us(ctx, found.confidence):
        return False
    await _record(ctx, ctx.text)
    return True


async def _record(ctx: Context, text: str) -> None:
    row = Suggestion(bot=ctx.app.name, at=ctx.now, room_id=ctx.message.room_id, author_id=ctx.sender.id,
                     text=mask_text(text))
    ctx.session.add(row)
    await ctx.session.flush()
    await ctx.reply(TEXTS["thanks"])
    await ctx.notify_roles({"officer"}, TEXTS["officer_notice"].format(
        id=row.id, where=where_asked(ctx, row.room_id), name=ctx.message.sender_name or ctx.sender.name or "居民",
        text=preview(row.text)))
    await ctx.count("suggestions")


@plugin.command("建议", roles=STAFF, summary="查看居民建议，或回复一条", usage="[回复 编号 内容]")
async def suggestions(ctx: Context) -> None:
    await list_or_answer(ctx, Suggestion, FOLLOWUP)
