"""/线索 for officers and staff, in private chat only: the open tips, then one tip's full text, its
attachments, a reply to the reporter and the closing result. The reporter is reached only
through the encrypted contact id, by outbox messages of the confidential source."""

from __future__ import annotations

from bot.context import Context
from bot.messages import Outgoing
from bot.plugin import STAFF
from bot.vault import VaultError
from handlers.tips import attachments, receipts, units
from handlers.tips.plugin import plugin
from handlers.tips.texts import OFFICER_TEXTS, TEXTS
from storage import tips as store
from storage.models import AuditEntry

MAX_LISTED = 30
TIP_NUMBER = r"[#＃]?(?P<n>\d+)"
TIP_NUMBER_AND_TEXT = TIP_NUMBER + r"\s+(?P<text>.+)"


@plugin.command("线索", roles=STAFF, where="private", summary="列出待处理的线索举报（最早的在前）")
async def tips_command(ctx: Context) -> None:
    if ctx.args:  # a first word that is none of the verbs below
        await ctx.reply_usage(OFFICER_TEXTS["usage"])
        return
    await list_open(ctx)


async def list_open(ctx: Context) -> None:
    rows = await store.open_tips(ctx.session, ctx.app.name, MAX_LISTED, units.units_of(ctx.app, ctx.sender.id))
    if not rows:
        await ctx.reply(OFFICER_TEXTS["list_empty"])
        return
    hours, tz = ctx.app.config.tips.overdue_hours, ctx.app.clock.tz
    lines = [OFFICER_TEXTS["list_head"].format(n=len(rows))]
    for t in rows:
        overdue = receipts.is_overdue(t.created_at, t.first_reply_at, ctx.now, hours)
        lines.append(OFFICER_TEXTS["list_line"].format(
            id=t.id, category=t.category + (OFFICER_TEXTS["from_bot"].format(bot=t.bot) if t.bot != ctx.app.name else ""),
            at=receipts.local_stamp(t.created_at, tz),
            summary=_summary(ctx, t),
            overdue=OFFICER_TEXTS["overdue"].format(hours=hours) if overdue else ""))
    await ctx.reply("\n".join(lines))


def _summary(ctx: Context, tip: store.Tip) -> str:
    """The list's one-line summary; a tip another bot sealed with another key says so instead."""
    try:
        return receipts.summarise(ctx.app.vault.decrypt(tip.body_enc))
    except VaultError:
        return OFFICER_TEXTS["sealed"].format(bot=tip.bot)


async def _tip(ctx: Context, n: str) -> store.Tip | None:
    """Tip N if this officer may see it here: one this bot took, or one routed to their unit."""
    tip = await store.get(ctx.session, ctx.app.name, int(n), units.units_of(ctx.app, ctx.sender.id))
    if tip is None:
        await ctx.reply(OFFICER_TEXTS["no_such"].format(id=n))
        ctx.outcome = "refused: no such tip"
        return None
    if tip.bot != ctx.app.name:
        try:
            ctx.app.vault.decrypt(tip.reporter_enc)
        except VaultError:
            await ctx.reply(OFFICER_TEXTS["other_key"].format(id=tip.id, bot=tip.bot))
            ctx.outcome = "refused: another bot's key"
            return None
    return tip


def _unit_label(ctx: Context, tip: store.Tip) -> str:
    unit = tip.unit or "社区民警"
    return unit + OFFICER_TEXTS["from_bot"].format(bot=tip.bot) if tip.bot != ctx.app.name else unit


def _audit_reading(ctx: Context, what: str, tip: store.Tip, outcome: str = "ok") -> None:
    """Reading a tip's full text or files is recorded on its own line, besides the command's row."""
    ctx.session.add(AuditEntry(bot=ctx.app.name, at=ctx.now, actor_id=ctx.sender.id, actor_role=ctx.role,
                               room_id=ctx.message.room_id, command=what, args=f"#{tip.id}", outcome=outcome))


# ---- one tip ------------------------------------------------------------------------------------

@plugin.subcommand("线索", "查看", pattern=TIP_NUMBER, usage="N", summary="看一条线索的全文（记入审计）")
async def view(ctx: Context, n: str) -> None:
    tip = await _tip(ctx, n)
    if tip is None:
        return
    ctx.reply_source = store.OUTBOX_SOURCE  # the full text must not stay behind in the outbox
    vault = ctx.app.vault
    reporter = OFFICER_TEXTS["reporter_hidden"] if tip.confidential or not tip.reporter_name_enc \
        else vault.decrypt(tip.reporter_name_enc)
    count = await store.attachment_count(ctx.session, tip.id)
    await ctx.reply(OFFICER_TEXTS["view"].format(
        id=tip.id, category=tip.category, unit=_unit_label(ctx, tip),
        at=receipts.local_stamp(tip.created_at, ctx.app.clock.tz),
        status=TEXTS["status_closed"] if tip.status == store.CLOSED else TEXTS["status_open"],
        reporter=reporter, body=vault.decrypt(tip.body_enc),
        when_where=vault.decrypt(tip.when_where_enc) if tip.when_where_enc else TEXTS["not_given"],
        attachments=count, attachment_hint=OFFICER_TEXTS["attachment_hint"].format(id=tip.id) if count else ""))
    _audit_reading(ctx, "线索查看", tip)


@plugin.subcommand("线索", "附件", pattern=TIP_NUMBER, usage="N", summary="把一条线索的附件私聊发给自己")
async def send_attachments(ctx: Context, n: str) -> None:
    """Each attachment, decrypted into a private temporary file, to the asking officer's private chat."""
    tip = await _tip(ctx, n)
    if tip is None:
        return
    rows = await store.attachments_of(ctx.session, tip.id)
    if not rows:
        await ctx.reply(OFFICER_TEXTS["no_attachments"].format(id=tip.id))
        ctx.outcome = "refused: no attachments"
        return
    opened = attachments.decrypt_all(ctx.app.vault, rows)
    ctx.outcome = f"sent {len(opened)} of {len(rows)} attachments"
    _audit_reading(ctx, "线索附件", tip, ctx.outcome)
    if len(opened) < len(rows):
        await ctx.reply(OFFICER_TEXTS["attachments_unreadable"].format(id=tip.id, n=len(rows) - len(opened)))
    if not opened:
        return
    await ctx.reply(OFFICER_TEXTS["attachments_coming"].format(id=tip.id, n=len(opened)))
    await attachments.sweep_files(ctx.app, ctx.session)
    folder = attachments.new_folder(ctx.app.name)
    for i, (row, data) in enumerate(opened, 1):
        path = folder / attachments.file_name(tip.id, i, row)
        attachments.write_private(path, data)
        out = Outgoing(None, ctx.sender.id, str(path), kind="image" if row.kind == "image" else "file")
        await ctx.send(out, source=store.OUTBOX_SOURCE)


# ---- answering the reporter -----------------------------------------------------------------------

async def _tell_reporter(ctx: Context, tip: store.Tip, text: str) -> None:
    """Through the reporter's bot, which may be another bot of the district (a unit's answer)."""
    reporter = ctx.app.vault.decrypt(tip.reporter_enc)
    await ctx.send_to_contact(reporter, text, source=store.OUTBOX_SOURCE, bot=tip.bot)


@plugin.subcommand("线索", "回复", pattern=TIP_NUMBER_AND_TEXT, usage="N 文字",
                   summary="经我转告报告人（不显示报告人是谁）")
async def relay(ctx: Context, n: str, text: str) -> None:
    tip = await _tip(ctx, n)
    if tip is None:
        return
    text = text.strip()
    ctx.session.add(store.TipReply(tip_id=tip.id, at=ctx.now, kind="reply", text=text))
    tip.first_reply_at = tip.first_reply_at or ctx.now
    await _tell_reporter(ctx, tip, TEXTS["relay_reply"].format(id=tip.id, text=text))
    await ctx.reply(OFFICER_TEXTS["replied"].format(id=tip.id))


@plugin.subcommand("线索", "结案", pattern=TIP_NUMBER_AND_TEXT, usage="N 结果", summary="结案，并把结果告知报告人")
async def close(ctx: Context, n: str, text: str) -> None:
    tip = await _tip(ctx, n)
    if tip is None:
        return
    if tip.status == store.CLOSED:
        await ctx.reply(OFFICER_TEXTS["already_closed"].format(id=tip.id))
        ctx.outcome = "refused: already closed"
        return
    result = text.strip()
    ctx.session.add(store.TipReply(tip_id=tip.id, at=ctx.now, kind="close", text=result))
    tip.status, tip.closed_at, tip.result = store.CLOSED, ctx.now, result
    tip.first_reply_at = tip.first_reply_at or ctx.now
    await _tell_reporter(ctx, tip, TEXTS["relay_close"].format(id=tip.id, text=result))
    await ctx.reply(OFFICER_TEXTS["closed"].format(id=tip.id))
    if tip.bot != ctx.app.name:  # the community's officers hear how the unit closed their tip
        note = OFFICER_TEXTS["unit_closed"].format(id=tip.id, category=tip.category, unit=tip.unit, text=result)
        for officer in await store.officer_ids(ctx.session, tip.bot):
            await ctx.send_to_contact(officer, note, source=store.NOTICE_SOURCE, bot=tip.bot)
    elif tip.unit_bot is not None:  # the unit it was routed to hears it is closed, and how
        unit = units.unit_for(ctx.app, tip.category)
        note = OFFICER_TEXTS["community_closed"].format(id=tip.id, category=tip.category, text=result)
        for officer_id, _ in (await units.unit_officers(ctx.app, ctx.session, unit) if unit else []):
            if officer_id != ctx.sender.id:
                await ctx.send_to_contact(officer_id, note, source=store.NOTICE_SOURCE, bot=tip.unit_bot)
