"""Reporting a tip in private, as the conversation goes: category → what happened (photos and
files welcome) → when and where (跳过) → 保密? → summary → 确认 → receipt; then the tip goes to
its unit and the officers, with a masked summary only.

Every reply of this dialog goes out with the confidential source (`reply_source`), so not even
the core's "已取消" leaves the reporter's contact id behind in the outbox."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta
from typing import Any

from bot.context import Context
from bot.messages import MessageKind
from bot.plugin import END, Reask
from handlers.tips import receipts, units
from handlers.tips.plugin import plugin
from handlers.tips.texts import OFFICER_TEXTS, TEXTS
from storage import tips as store

log = logging.getLogger(__name__)
MAX_ATTACHMENTS = 9
ATTACHMENT_KINDS = (MessageKind.IMAGE, MessageKind.FILE, MessageKind.VIDEO)

tip_dialog = plugin.dialog("tip", title="线索", start_word="举报")
tip_dialog.reply_source = store.OUTBOX_SOURCE
# Left at the summary and silent: kept a day, offered back (回复“继续”), then dropped.
tip_dialog.park_states = frozenset({"confirm"})
tip_dialog.park_for = timedelta(hours=24)
tip_dialog.park_text = TEXTS["parked"]


async def start_tip(ctx: Context) -> None:
    ctx.reply_source = store.OUTBOX_SOURCE
    if await _over_limit(ctx):
        return
    await ctx.start_dialog("tip", "category", {"attachments": []})


def _quota_key(ctx: Context) -> tuple:
    day, text = receipts.quota_key(ctx.now, ctx.app.clock.tz, ctx.sender.id)
    return day, ctx.app.vault.keyed_hash(text)


async def _over_limit(ctx: Context) -> bool:
    day, key = _quota_key(ctx)
    limit = ctx.app.config.tips.daily_limit
    if await store.used_today(ctx.session, ctx.app.name, day, key) >= limit:
        await ctx.reply(TEXTS["too_many"].format(limit=limit))
        return True
    return False


# ---- the states, in the order they are asked ----------------------------------------------------

async def ask_category(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["ask_category"].format(options=receipts.category_options()))


async def help_category(ctx: Context, data: dict) -> str:
    return TEXTS["help_category"]


@tip_dialog.state("category", prompt=ask_category, accepts_attachments=True, label="正在选类别", help=help_category)
async def got_category(ctx: Context, data: dict, text: str):
    if ctx.message.kind != MessageKind.TEXT:
        await ctx.reply(TEXTS["text_please"])
        return "category"
    category = receipts.category_of(text)
    if category is None:
        return Reask(TEXTS["bad_category"])
    data["category"] = category
    return "what"


async def ask_what(ctx: Context, data: dict) -> None:
    n = len(data.get("attachments", []))
    await ctx.reply(TEXTS["ask_what_more"].format(n=n) if n else TEXTS["ask_what"])


@tip_dialog.state("what", prompt=ask_what, accepts_attachments=True, label="正在说发生了什么", free_text=True)
async def got_what(ctx: Context, data: dict, text: str):
    if ctx.message.kind != MessageKind.TEXT:
        await take_attachment(ctx, data)
        return "what"
    if not text.strip():
        return Reask(TEXTS["empty_text"])
    data["body_enc"] = ctx.app.vault.encrypt(text.strip())  # the dialog's row is stored: never in plain
    return "when"


async def ask_when(ctx: Context, data: dict) -> None:
    n = len(data.get("attachments", []))
    await ctx.reply(TEXTS["ask_when_more"].format(n=n) if n and ctx.message.kind != MessageKind.TEXT
                    else TEXTS["ask_when"])


@tip_dialog.state("when", prompt=ask_when, accepts_attachments=True, label="正在说时间地点", free_text=True)
async def got_when(ctx: Context, data: dict, text: str):
    if ctx.message.kind != MessageKind.TEXT:
        await take_attachment(ctx, data)
        return "when"
    when_where = receipts.when_where_of(text)
    data["when_where_enc"] = ctx.app.vault.encrypt(when_where) if when_where else None
    return "confidential"


async def ask_confidential(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["ask_confidential"])


async def help_confidential(ctx: Context, data: dict) -> str:
    return TEXTS["help_confidential"]


@tip_dialog.state("confidential", prompt=ask_confidential, accepts_attachments=True, label="正在选要不要保密",
                  help=help_confidential, keeps={"不用", "不用了", "不要", "不要了"})
async def got_confidential(ctx: Context, data: dict, text: str):
    confidential = receipts.wants_confidential(text)
    if confidential is None:
        return Reask(TEXTS["bad_confidential"])
    data["confidential"] = confidential
    return "confirm"


def _body(ctx: Context, data: dict) -> str:
    return ctx.app.vault.decrypt(data["body_enc"]) if data.get("body_enc") else data.get("body", "")


def _when_where(ctx: Context, data: dict) -> str | None:
    if data.get("when_where_enc"):
        return ctx.app.vault.decrypt(data["when_where_enc"])
    return data.get("when_where")


async def show_summary(ctx: Context, data: dict) -> None:
    await ctx.reply(TEXTS["summary"].format(
        category=data["category"], body=_body(ctx, data), when_where=_when_where(ctx, data) or TEXTS["not_given"],
        attachments=len(data.get("attachments", [])),
        identity=TEXTS["identity_confidential"] if data["confidential"] else TEXTS["identity_open"]))


async def help_confirm(ctx: Context, data: dict) -> str:
    return TEXTS["help_confirm"]


@tip_dialog.state("confirm", prompt=show_summary, accepts_attachments=True, label="就差您回复“确认”提交",
                  help=help_confirm, resume="回复“确认”提交。")
async def got_confirm(ctx: Context, data: dict, text: str):
    if not receipts.confirms(text):
        return Reask(TEXTS["bad_confirm"])
    if await _over_limit(ctx):
        await _drop_drafts(ctx.app, ctx.session, data)
        return END
    await submit(ctx, data)
    return END


async def _drop_drafts(app, session, data: dict) -> None:
    await store.drop_drafts(session, app.name, data.get("attachments", []))


tip_dialog.on_discard = _drop_drafts


# ---- photos and files sent during the dialog ----------------------------------------------------

async def take_attachment(ctx: Context, data: dict) -> None:
    """Keep an image or file (encrypted) as a draft attachment; say why when refused."""
    refusal = _refusal(ctx, data)
    if refusal is not None:
        await ctx.reply(refusal)
        return
    msg = ctx.message
    token = ctx.app.vault.encrypt(base64.b64encode(msg.attachment).decode())
    row = store.TipAttachment(bot=ctx.app.name, kind=msg.kind.value, name=(msg.attachment_name or "")[:128],
                              size=len(msg.attachment), data_enc=token.encode(), created_at=ctx.now)
    ctx.session.add(row)
    await ctx.session.flush()
    data["attachments"] = [*data.get("attachments", []), row.id]


def _refusal(ctx: Context, data: dict) -> str | None:
    """Why this message cannot be kept as an attachment; None: it can."""
    msg = ctx.message
    limit_kb = ctx.app.config.tips.attachment_max_kb
    if msg.kind not in ATTACHMENT_KINDS:
        return TEXTS["text_please"]
    if msg.attachment is None:
        return TEXTS["attachment_failed" if msg.attachment_error else "attachment_missing"]
    if len(msg.attachment) > limit_kb * 1024:
        return TEXTS["attachment_too_big"].format(size=(len(msg.attachment) + 1023) // 1024, limit=limit_kb)
    if len(data.get("attachments", [])) >= MAX_ATTACHMENTS:
        return TEXTS["attachment_too_many"].format(n=MAX_ATTACHMENTS)
    return None


# ---- submitting and routing ---------------------------------------------------------------------

async def submit(ctx: Context, data: dict[str, Any]) -> store.Tip:
    receipt = receipts.new_receipt()
    tip = _new_tip(ctx, data, receipt)
    ctx.session.add(tip)
    await ctx.session.flush()
    await store.attach(ctx.session, ctx.app.name, data.get("attachments", []), tip.id)
    day, key = _quota_key(ctx)
    await store.use_quota(ctx.session, ctx.app.name, day, key)
    await ctx.count("tips", key=tip.category)
    await ctx.reply(TEXTS["receipt"].format(id=tip.id, receipt=receipts.show_receipt(receipt)))
    await route_tip(ctx, tip)
    return tip


def _new_tip(ctx: Context, data: dict[str, Any], receipt: str) -> store.Tip:
    """The tip row: its text and the reporter encrypted, the receipt only as a keyed hash."""
    vault = ctx.app.vault
    category = data["category"]
    route = ctx.app.config.tips.routes.get(category)
    district_unit = units.unit_for(ctx.app, category)  # the district's unit wins over the community's route
    name = None if data["confidential"] else vault.encrypt(ctx.message.sender_name or ctx.sender.name)
    return store.Tip(
        bot=ctx.app.name, category=category,
        unit=district_unit.name if district_unit else route.unit if route else "",
        unit_bot=district_unit.bot if district_unit else None,
        body_enc=vault.encrypt(_body(ctx, data)),
        when_where_enc=vault.encrypt(_when_where(ctx, data)) if _when_where(ctx, data) else None,
        confidential=data["confidential"],
        reporter_enc=vault.encrypt(ctx.sender.id), reporter_name_enc=name,
        receipt_hash=vault.keyed_hash(receipt), status=store.OPEN, created_at=ctx.now,
    )


async def route_tip(ctx: Context, tip: store.Tip) -> None:
    """Every officer privately, with a masked summary, and the unit's group (when configured) that
    there is one, without a word of it; a tip of a district unit goes to the unit's officers
    through their bot instead of any group."""
    route = ctx.app.config.tips.routes.get(tip.category)
    fields = dict(id=tip.id, category=tip.category, at=receipts.local_stamp(tip.created_at, ctx.app.clock.tz),
                  summary=receipts.summarise(ctx.app.vault.decrypt(tip.body_enc)),
                  identity=OFFICER_TEXTS["identity_confidential"] if tip.confidential
                  else OFFICER_TEXTS["identity_open"])
    unit, told = tip.unit or "社区民警", set()
    if tip.unit_bot is not None:
        unit, told = await _to_unit(ctx, tip, fields)
        route = None  # no group hears of a unit's tip
    text = OFFICER_TEXTS["notify"].format(unit=unit, **fields)
    if route and route.room:
        group = ctx.app.directory.group_named(route.room)
        if group is not None:
            await ctx.send_to_group(group.id, OFFICER_TEXTS["group_notify"].format(unit=unit, **fields),
                                    source=store.NOTICE_SOURCE)
    for officer in ctx.app.directory.with_roles({"officer"}):
        if officer.id not in told:
            await ctx.send_to_contact(officer.id, text, source=store.NOTICE_SOURCE)


async def _to_unit(ctx: Context, tip: store.Tip, fields: dict) -> tuple[str, set[str]]:
    """The unit's officers, privately through the unit's bot; returns the unit as the community's
    officers see it (routed, and to whom, or that nobody could be reached), and whom of this bot's
    contacts the unit's notice already told."""
    app = ctx.app
    unit = units.unit_for(app, tip.category)
    label = OFFICER_TEXTS["unit_bot_label"].format(bot=tip.unit_bot) if tip.unit_bot != app.name else ""
    officers = await units.unit_officers(app, ctx.session, unit) if unit else []
    if not officers:
        log.warning("tip routed to a unit none of whose officers is known to its bot",
                    extra={"tip": tip.id, "unit": tip.unit, "unit_bot": tip.unit_bot})
        return OFFICER_TEXTS["routed_nobody"].format(unit=tip.unit, bot_label=label,
                                                     officers="、".join(unit.officers) if unit else tip.unit), set()
    text = OFFICER_TEXTS["unit_notify"].format(community=app.config.bot.community, unit=tip.unit, **fields)
    for contact_id, _name in officers:
        await ctx.send_to_contact(contact_id, text, source=store.NOTICE_SOURCE, bot=tip.unit_bot)
    told = {i for i, _ in officers} if tip.unit_bot == app.name else set()
    return OFFICER_TEXTS["routed"].format(unit=tip.unit, bot_label=label, officers="、".join(n for _, n in officers)), told
