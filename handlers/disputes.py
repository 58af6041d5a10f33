"""矛盾纠纷: a neighbour dispute is told to the officer privately and written into the dispute
register (矛盾纠纷排查化解登记簿) with the time the system saw it. Nothing is said about it in the
group beyond a short "the officer knows" to the resident who raised it."""

from __future__ import annotations

from bot.context import Context
from bot.masking import mask_text
from bot.plugin import OFFICER, Plugin
from handlers.followup import meant_for_us, preview, where_asked
from handlers.intents import Classification
from storage.understanding import DisputeRecord

plugin = Plugin("disputes")

TEXTS = {
    "received": "您说的情况已经告诉社区民警了，民警会尽快了解、帮忙协调。邻里之间有话好好说，别动气。",
    "officer_notice": "矛盾纠纷 #{id}（{where}，{name}）：{text}\n已记入矛盾纠纷登记簿。",
}

SUMMARY_MAX = 500


@plugin.intent("dispute")
async def register(ctx: Context, found: Classification) -> bool:
    if not meant_for_us(ctx, found.confidence):
        return False
    row = DisputeRecord(bot=ctx.app.name, at=ctx.now, room_id=ctx.message.room_id, reporter_id=ctx.sender.id,
                        summary=mask_text(ctx.text)[:SUMMARY_MAX])
    ctx.session.add(row)
    await ctx.session.flush()
    await ctx.notify_roles(OFFICER, TEXTS["officer_notice"].format(
        id=row.id, where=where_asked(ctx, row.room_id), name=ctx.message.sender_name or ctx.sender.name or "居民",
        text=preview(row.summary)))
    await ctx.reply(TEXTS["received"])
    await ctx.count("disputes")
    return True
