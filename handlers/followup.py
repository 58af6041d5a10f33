"""What consultations, suggestions and disputes share: officers list the open ones and act on one by
number; an answer goes back to the resident where they asked (来访有回声); each becomes a register
row with the same source and masked name. Small pieces the handlers call; not a plugin, no parser
(the subcommand's pattern reads the number and the text)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.context import Context
from bot.masking import mask_text
from bot.messages import Outgoing
from bot.plugin import STAFF
from storage.understanding import ANSWERED, OPEN, Answerable, count_open, get_item, open_items

GROUP_MIN_CONFIDENCE = 0.6  # in a group, only a clear case (or an @ to the bot) is acted on

# `/咨询 回复 3 答复内容`: what follows the verb (the router matches it in full).
ANSWER_PATTERN = r"#?(?P<n>\d+)\s+(?P<text>.+)"
LIST_LIMIT = 20
PREVIEW = 60  # characters of the resident's text shown in lists and answers
ITEM_PREVIEW = 30  # characters of it a register's 事项 shows

TEXTS = {"private": "私聊", "group": "群聊", "resident": "居民"}


def meant_for_us(ctx: Context, confidence: float) -> bool:
    """Whether a group message is a resident's own suggestion or dispute to record.

    Officers and staff speaking in a group are doing their job, not filing one; grumbling in
    passing ("我觉得还行") leans toward these intents with low confidence and is left alone."""
    if ctx.group is None:
        return True
    if ctx.role in STAFF:
        return False
    return ctx.message.mentions_bot or confidence >= GROUP_MIN_CONFIDENCE


@dataclass(frozen=True)
class FollowupTexts:
    """The words one feature uses; see the TEXTS dicts of handlers.guide and handlers.suggestions."""

    empty: str
    head: str  # "{n}" open in all
    answer_to_resident: str  # "{text}", "{answer}"
    done: str  # "{id}", "{name}"
    not_found: str  # "{id}"
    already: str  # "{id}"
    usage: str


def preview(text: str, limit: int = PREVIEW) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def source_name(room_id: str | None, room_name: str | None) -> str:
    """Where it was raised, as a register shows it: the group's name, or 私聊."""
    if room_id is None:
        return TEXTS["private"]
    return room_name or TEXTS["group"]


def where_asked(ctx: Context, room_id: str | None) -> str:
    group = ctx.app.directory.group(room_id) if room_id is not None else None
    return source_name(room_id, group.name if group else None)


def person_name(ctx: Context, contact_id: str) -> str:
    known = ctx.app.directory.people.get(contact_id)  # never the raw WeChat id of someone unknown
    return known.name if known and known.name else TEXTS["resident"]


async def list_open(ctx: Context, model: type[Answerable], texts: FollowupTexts) -> None:
    rows = await open_items(ctx.session, model, ctx.app.name, LIST_LIMIT)
    if not rows:
        await ctx.reply(texts.empty)
        return
    total = await count_open(ctx.session, model, ctx.app.name)
    lines = [texts.head.format(n=total)]
    tz = ctx.app.clock.tz
    for row in rows:
        lines.append(f"#{row.id} {row.at.astimezone(tz):%m-%d %H:%M} {person_name(ctx, row.resident_id)}"
                     f"（{where_asked(ctx, row.room_id)}）：{preview(row.text)}")
    lines.append(texts.usage)
    await ctx.reply("\n".join(lines))


async def open_item(ctx: Context, model: type[Answerable], texts: FollowupTexts, item_id: int) -> Answerable | None:
    """The open item numbered `item_id`; None once the officer is told why not."""
    row = await get_item(ctx.session, model, ctx.app.name, item_id)
    if row is None:
        await ctx.reply(texts.not_found.format(id=item_id))
        ctx.outcome = "refused: not found"
        return None
    if row.status != OPEN:
        await ctx.reply(texts.already.format(id=item_id))
        ctx.outcome = f"refused: already {row.status}"
        return None
    return row


async def send_answer(ctx: Context, model: type[Answerable], texts: FollowupTexts, item_id: int, reply: str) -> None:
    """`/咨询 回复 N 文字`: the answer goes to the resident, in the group (@) or privately."""
    row = await open_item(ctx, model, texts, item_id)
    if row is None:
        return
    resident = row.resident_id
    body = texts.answer_to_resident.format(text=preview(row.text), answer=reply)
    out = (Outgoing(row.room_id, None, body, mention_ids=(resident,)) if row.room_id
           else Outgoing(None, resident, body))
    await ctx.send(out, source="answer")
    row.status, row.answer, row.answered_at, row.answered_by = ANSWERED, mask_text(reply), ctx.now, ctx.sender.id
    await ctx.reply(texts.done.format(id=row.id, name=person_name(ctx, resident)))
    ctx.outcome = f"answered #{row.id}"
