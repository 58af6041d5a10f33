"""矛盾纠纷: a neighbour dispute is told to the officer privately and written into the dispute
register (矛盾纠纷排查化解登记簿) with the time the system saw it. Nothing is said about it in the
group beyond a short "the officer knows" to the resident who raised it.

Officers (private chat): /纠纷 lists the open ones, /纠纷 化解 N 化解情况 (or 结案) records the outcome,
its time and who did it; the register export shows both."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.masking import mask_name, mask_text
from bot.plugin import OFFICER, STAFF, Plugin
from handlers.followup import (
    FollowupTexts, list_open, meant_for_us, open_item, preview, source_name, where_asked,
)
from handlers.intents import Classification, corrections
from storage.registers import RegisterRow, day_bounds
from storage.understanding import RESOLVED, DisputeRecord, count_open, recorded_between

plugin = Plugin("disputes", order=120)

TEXTS = {
    "received": "您说的情况已经告诉社区民警了，民警会尽快了解、帮忙协调。邻里之间有话好好说，别动气。",
    "officer_notice": "矛盾纠纷 #{id}（{where}，{name}）：{text}\n已记入矛盾纠纷登记簿。化解后请发：/纠纷 化解 {id} 化解情况",
    "list_empty": "目前没有未化解的矛盾纠纷。",
    "list_head": "未化解的矛盾纠纷（共{n}条）：",
    "usage": "化解后请发：/纠纷 化解 编号 化解情况，例如：/纠纷 化解 3 双方已当面调解，楼上同意晚十点后不再装修",
    "not_found": "没有编号为 {id} 的矛盾纠纷。发送 /纠纷 查看未化解的。",
    "already": "矛盾纠纷 #{id} 已经化解登记过了。",
    "report_line": "未化解的矛盾纠纷{n}条",
    "resolved": "矛盾纠纷 #{id} 已登记为化解：{outcome}\n登记簿里会记下化解情况和时间。",
}
REGISTER_TEXTS = {"open": "尚未化解", "resolved": "已化解：{outcome}"}
FOLLOWUP = FollowupTexts(empty=TEXTS["list_empty"], head=TEXTS["list_head"], answer_to_resident="",
                         done=TEXTS["resolved"], not_found=TEXTS["not_found"], already=TEXTS["already"],
                         usage=TEXTS["usage"])

SUMMARY_MAX = 500


@plugin.intent("dispute")
async def register(ctx: Context, found: Classification) -> bool:
    if not meant_for_us(ctx, found.confidence):
        return False
    # The register names who raised it, so the bot keeps the contact this flow needs.
    await ctx.app.directory.remember(ctx.session, ctx.sender.id, ctx.message.sender_name, ctx.now)
    row = DisputeRecord(bot=ctx.app.name, at=ctx.now, room_id=ctx.message.room_id, reporter_id=ctx.sender.id,
                        summary=mask_text(ctx.text)[:SUMMARY_MAX])
    ctx.session.add(row)
    await ctx.session.flush()
    case = await corrections.record(ctx, "dispute")  # a misread emergency is corrected from here
    await ctx.notify_roles(OFFICER, TEXTS["officer_notice"].format(
        id=row.id, where=where_asked(ctx, row.room_id), name=ctx.message.sender_name or ctx.sender.name or "居民",
        text=preview(row.summary)) + corrections.tag(case))
    await ctx.reply(TEXTS["received"])
    await ctx.count("disputes")
    return True


@plugin.command("纠纷", roles=STAFF, where="private", summary="列出未化解的矛盾纠纷")
async def disputes_command(ctx: Context) -> None:
    if ctx.args:  # a verb that is no subcommand's ("/纠纷 删除 1")
        await ctx.reply(TEXTS["usage"])
        ctx.outcome = "refused: usage"
        return
    await list_open(ctx, DisputeRecord, FOLLOWUP)


@plugin.subcommand("纠纷", "化解", aliases=("结案",), pattern=r"[#＃]?(?P<n>\d+)\s+(?P<outcome>.+)",
                   usage="编号 化解情况", summary="登记一条矛盾纠纷的化解情况（进登记簿）")
async def resolve(ctx: Context, n: str, outcome: str) -> None:
    row = await open_item(ctx, DisputeRecord, FOLLOWUP, int(n))
    if row is None:
        return
    row.status, row.outcome, row.resolved_at, row.resolved_by = RESOLVED, mask_text(outcome), ctx.now, ctx.sender.id
    await ctx.reply(TEXTS["resolved"].format(id=row.id, outcome=preview(row.outcome)))
    ctx.outcome = f"resolved #{row.id}"


@plugin.report_line("disputes")
async def unresolved_line(app, session: AsyncSession, period) -> list[str]:
    """For the weekly report: disputes not yet resolved, whenever they were raised; no names."""
    n = await count_open(session, DisputeRecord, app.name)
    return [TEXTS["report_line"].format(n=n)] if n else []


@plugin.register_rows("dispute")
async def register_rows(session: AsyncSession, config, start: date, end: date) -> list[RegisterRow]:
    rows = []
    for line in await recorded_between(session, DisputeRecord, config.bot.name, *day_bounds(start, end)):
        d = line.record
        done = d.status == RESOLVED
        rows.append(RegisterRow(d.at, {
            "来源": source_name(d.room_id, line.room_name), "简要情况": d.summary,
            "当事人": mask_name(line.resident_name),
            "化解情况": REGISTER_TEXTS["resolved"].format(outcome=d.outcome) if done else REGISTER_TEXTS["open"],
            "化解时间": d.resolved_at if done else "", "经办人": (line.officer_name or "") if done else ""}))
    return rows
