"""意见建议: a suggestion (or a message starting with “建议：”) is thanked, recorded and counted;
officers list them with /建议 and answer with /建议 回复 N 文本. Each is a row of the reception
register (接待服务登记簿)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.masking import mask_name, mask_text
from bot.plugin import STAFF, Plugin
from handlers.followup import (
    ANSWER_PATTERN, ITEM_PREVIEW, FollowupTexts, list_open, meant_for_us, preview,
    send_answer, source_name, where_asked,
)
from handlers.intents import Classification
from storage.db import add_row
from storage.registers import RegisterRow, day_bounds
from storage.understanding import OPEN, Suggestion, recorded_between

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
REGISTER_TEXTS = {"category": "意见建议", "open": "待回复", "answered": "已回复"}
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
    masked = mask_text(text)
    row_id = await add_row(ctx.session, Suggestion, bot=ctx.app.name, at=ctx.now, room_id=ctx.message.room_id,
                           author_id=ctx.sender.id, text=masked)
    await ctx.reply(TEXTS["thanks"])
    await ctx.notify_roles({"officer"}, TEXTS["officer_notice"].format(
        id=row_id, where=where_asked(ctx, ctx.message.room_id),
        name=ctx.message.sender_name or ctx.sender.name or "居民", text=preview(masked)))
    await ctx.count("suggestions")


@plugin.command("建议", roles=STAFF, summary="查看待回复的居民建议")
async def suggestions(ctx: Context) -> None:
    await list_open(ctx, Suggestion, FOLLOWUP)


@plugin.subcommand("建议", "回复", pattern=ANSWER_PATTERN, usage="编号 答复内容",
                   summary="回复一条建议，答复发回居民提建议的地方")
async def answer_suggestion(ctx: Context, n: str, text: str) -> None:
    await send_answer(ctx, Suggestion, FOLLOWUP, int(n), text)


@plugin.register_rows("reception")
async def reception_rows(session: AsyncSession, config, start: date, end: date) -> list[RegisterRow]:
    rows = []
    for line in await recorded_between(session, Suggestion, config.bot.name, *day_bounds(start, end)):
        item = line.record
        done = item.status != OPEN
        rows.append(RegisterRow(item.at, {
            "类别": REGISTER_TEXTS["category"], "事项": preview(mask_text(item.text), ITEM_PREVIEW),
            "来源": source_name(item.room_id, line.room_name), "群众": mask_name(line.resident_name),
            "办理情况": REGISTER_TEXTS["answered" if done else "open"], "办结时间": item.answered_at if done else "",
            "经办人": (line.officer_name or "") if done else ""}))
    return rows
