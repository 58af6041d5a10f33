"""Tips in the 接待服务登记簿: one row per tip, with when it came in, its category and how it was
handled. A confidential tip's row says nothing of who reported it, nor from where; an open one's
points to /线索 查看 for the name the reporter chose to give."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.tips.plugin import plugin
from handlers.tips.texts import REGISTER_TEXTS
from storage import tips as store
from storage.registers import RegisterRow, day_bounds


def handling(tip: store.Tip) -> str:
    if tip.status == store.CLOSED:
        return REGISTER_TEXTS["closed"]
    return REGISTER_TEXTS["replied" if tip.first_reply_at else "open"]


@plugin.register_rows("reception")
async def reception_rows(session: AsyncSession, config, start: date, end: date) -> list[RegisterRow]:
    low, high = day_bounds(start, end)
    tips = (await session.execute(select(store.Tip).where(
        store.Tip.bot == config.bot.name, store.Tip.created_at >= low, store.Tip.created_at < high)
        .order_by(store.Tip.created_at))).scalars()
    rows = []
    for tip in tips:
        cells = {"类别": REGISTER_TEXTS["category"], "事项": tip.category, "办理情况": handling(tip),
                 "办结时间": tip.closed_at or ""}
        if not tip.confidential:
            cells |= {"事项": REGISTER_TEXTS["item_open"].format(id=tip.id, category=tip.category),
                      "来源": REGISTER_TEXTS["source"], "群众": REGISTER_TEXTS["person_open"].format(id=tip.id)}
        rows.append(RegisterRow(tip.created_at, cells))
    return rows
