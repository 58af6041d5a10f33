"""What residents say without a slash: 举报/线索 (in private: the dialog; in a group: a nudge to
come to private chat, repeating nothing), the classifier's "tip", and 查询 <receipt>."""

from __future__ import annotations

import re

from bot.context import Context
from bot.plugin import OFFICER
from handlers.followup import meant_for_us
from handlers.tips import receipts
from handlers.tips.dialog import start_tip
from handlers.tips.plugin import plugin
from handlers.tips.texts import OFFICER_TEXTS, TEXTS
from storage import tips as store


@plugin.phrase(r"^\s*(我要|我想)?(举报|提供线索|报线索|线索)", where="private", priority=10, dialog_answer=True)
async def private_tip(ctx: Context, match: re.Match) -> bool:
    await start_tip(ctx)
    return True


def _speaks_to_bot(ctx: Context) -> bool:
    text = ctx.text.strip()
    return ctx.message.mentions_bot or len(text) <= 12 or re.match(r"^(我要|我想)?(举报|线索)", text) is not None


@plugin.phrase(r"举报|线索", where="group", priority=10)
async def group_tip(ctx: Context, match: re.Match) -> bool:
    if not _speaks_to_bot(ctx):
        return False
    await redirect_from_group(ctx)
    return True


async def redirect_from_group(ctx: Context) -> None:
    # No @: the nudge should not point the neighbours at who wants to report.
    await ctx.reply(TEXTS["group_redirect"], mention=False)
    await ctx.count("tip_redirects")


@plugin.intent("tip")
async def tip_intent(ctx: Context, found) -> bool:
    if ctx.is_private:
        await start_tip(ctx)
        return True
    # In a group, as for suggestions and disputes: an officer warning the neighbours is doing the
    # job, and a message that only leans towards a tip ("我们楼有三十户") is chatter, not a report.
    if not meant_for_us(ctx, found.confidence):
        return False
    await redirect_from_group(ctx)
    return True


# ---- follow-up by receipt ---------------------------------------------------------------------

@plugin.phrase(r"\d[\d \t\u3000]{14,}\d", where="group", priority=30)
async def receipt_in_group(ctx: Context, match: re.Match) -> bool:
    """A receipt in a group is no longer a secret: anyone there could read the officers' replies.
    It is revoked at once, the reporter gets a new one privately, the officers are told, and the
    group hears only that it no longer works (never the receipt again)."""
    revoked = []
    for receipt in receipts.receipts_in(ctx.text):
        tip = await store.by_receipt(ctx.session, ctx.app.vault.keyed_hash(receipt))
        if tip is not None:
            revoked.append(await _renew_receipt(ctx, tip))
    if not revoked:
        return False  # sixteen digits that are no receipt of ours
    await ctx.reply(TEXTS["receipt_revoked_group"], mention=False)
    group = ctx.app.directory.group(ctx.message.room_id or "")
    for tip_id in revoked:
        await ctx.notify_roles(OFFICER, OFFICER_TEXTS["receipt_revoked"].format(
            id=tip_id, group=group.name if group else ctx.message.room_name or "群聊"))
    ctx.outcome = f"receipt revoked #{','.join(map(str, revoked))}"
    return True


async def _renew_receipt(ctx: Context, tip: store.Tip) -> int:
    receipt = receipts.new_receipt()
    tip.receipt_hash = ctx.app.vault.keyed_hash(receipt)
    reporter = ctx.app.vault.decrypt(tip.reporter_enc)
    # Source "tip": the outbox forgets recipient and text once sent, as for every reporter message.
    await ctx.send_to_contact(reporter, TEXTS["receipt_renewed"].format(
        id=tip.id, receipt=receipts.show_receipt(receipt)), source=store.OUTBOX_SOURCE)
    await ctx.count("tip_receipts_revoked")
    return tip.id


@plugin.phrase(r"^\s*查询[\s:：]*([\d\s\-]{0,60})[\s。.!！?？]*$", priority=20)
async def lookup(ctx: Context, match: re.Match) -> bool:
    receipt = receipts.receipt_in(match.group(1))
    if receipt is None:
        if not ctx.is_private:
            return False
        n = len(receipts.digits_in(match.group(1)))
        text = TEXTS["query_how"] if n == 0 else TEXTS["query_bad_length"].format(n=n)
        ctx.reply_source = store.OUTBOX_SOURCE
        await ctx.reply_private(text)
        return True
    ctx.reply_source = store.OUTBOX_SOURCE
    tip = await store.by_receipt(ctx.session, ctx.app.vault.keyed_hash(receipt))
    if tip is None:
        await ctx.reply_private(TEXTS["query_unknown"])
        return True
    lines = await _progress(ctx, tip)
    if not ctx.is_private:
        lines.append(TEXTS["query_in_group"])
    # Always privately: in a group nothing is said at all.
    await ctx.reply_private("\n".join(lines))
    return True


async def _progress(ctx: Context, tip: store.Tip) -> list[str]:
    """The tip's state, then every officer reply and the closing result, oldest first."""
    tz = ctx.app.clock.tz
    lines = [TEXTS["query_head"].format(
        id=tip.id, category=tip.category, created=receipts.local_stamp(tip.created_at, tz),
        status=TEXTS["status_closed"] if tip.status == store.CLOSED else TEXTS["status_open"])]
    answers = await store.replies(ctx.session, tip.id)
    for r in answers:
        template = TEXTS["query_close_line"] if r.kind == "close" else TEXTS["query_reply_line"]
        lines.append(template.format(at=receipts.local_stamp(r.at, tz), text=r.text))
    if not answers:
        lines.append(TEXTS["query_no_reply"])
    return lines
