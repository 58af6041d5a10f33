"""Officers keep the anti-fraud notice library in chat, as subcommands of /反诈:

    /反诈 新增 冒充公检法 公检法机关不会通过电话办案……     add one; it joins the rotation
    /反诈 列表 [类型]                                      what exists, with numbers
    /反诈 删除 12                                          an added one, for good
    /反诈 停用 shuadan-dianzan   /反诈 启用 shuadan-dianzan a built-in one, off and on again

Their verbs are no anti-fraud type and no category, so `/反诈 [类型] [目标]` (push one now,
push_now.py) is read as before. Each pattern takes what the handler needs and lets a missing
word through, so the officer gets this feature's own hint (with an example) rather than a bare
usage line; words after the number, as before, are not read.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.context import Context
from bot.edge import small_int
from handlers.pushes import push_now  # noqa: F401  (declares /反诈 before its subcommands)
from handlers.pushes.delivery import NoticeLibrary, custom_notice
from handlers.pushes.notices import CUSTOM_PREFIX, FRAUD_TYPES, MAX_TEXT_CHARS, Notice, fraud_type
from handlers.pushes.plugin import plugin
from handlers.pushes.texts import LIBRARY
from storage.pushes import CustomNotice, DisabledNotice, active_custom_notices, disabled_notice_ids

COMMAND = "反诈"
PREVIEW_CHARS = 30


def first_word(name: str) -> str:
    """A pattern for "12" or nothing (then the handler asks for it); what follows the word is not read."""
    return rf"(?P<{name}>\S+)?(?:\s.*)?"


# ---------------------------------------------------------------- 新增


@plugin.subcommand(COMMAND, "新增", aliases=("添加",), pattern=r"(?:(?P<type_word>\S+)(?:\s+(?P<text>.+))?)?",
                   usage="类型 文字", summary="新增一条反诈提醒，加入轮换推送")
async def add_notice(ctx: Context, type_word: str = "", text: str = "") -> None:
    if not type_word:
        await ctx.reply(LIBRARY["add_usage"])
        return
    notice_type = fraud_type(type_word)
    if notice_type is None:
        ctx.outcome = "refused: type"
        await ctx.reply(LIBRARY["bad_type"].format(word=type_word))
        return
    text = text.strip()
    if not text:
        await ctx.reply(LIBRARY["need_text"].format(type=notice_type))
        return
    if len(text) > MAX_TEXT_CHARS:
        ctx.outcome = "refused: too long"
        await ctx.reply(LIBRARY["too_long"].format(n=len(text), max=MAX_TEXT_CHARS))
        return
    same = (await ctx.session.execute(select(CustomNotice.id).where(
        CustomNotice.bot == ctx.app.name, CustomNotice.removed_at.is_(None),
        CustomNotice.type == notice_type, CustomNotice.text == text))).scalars().first()
    if same is not None:
        await ctx.reply(LIBRARY["duplicate"].format(id=same))
        return
    row = CustomNotice(bot=ctx.app.name, type=notice_type, text=text, created_by=ctx.sender.id,
                       created_at=ctx.now)
    ctx.session.add(row)
    await ctx.session.flush()
    ctx.outcome = f"added {row.id}"
    await ctx.reply(LIBRARY["added"].format(id=row.id, type=notice_type, message=custom_notice(row).as_message()))


# ---------------------------------------------------------------- 列表


@plugin.subcommand(COMMAND, "列表", aliases=("查看",), pattern=first_word("type_word"), usage="[类型]",
                   summary="查看反诈提醒库（写类型则列出每一条和编号）")
async def list_notices(ctx: Context, type_word: str = "") -> None:
    notice_type = fraud_type(type_word) if type_word else None
    if type_word and notice_type is None:
        await ctx.reply(LIBRARY["bad_type"].format(word=type_word))
        return
    builtin = list(ctx.app.service(NoticeLibrary))
    disabled = await disabled_notice_ids(ctx.session, ctx.app.name)
    custom = await active_custom_notices(ctx.session, ctx.app.name)
    tz = ctx.app.clock.tz
    if notice_type is None:
        await ctx.reply(overview(builtin, disabled, custom, tz))
    else:
        await ctx.reply(type_listing(notice_type, builtin, disabled, custom, tz))


def overview(builtin: list[Notice], disabled: set[str], custom: list[CustomNotice], tz: dt.tzinfo) -> str:
    lines = [LIBRARY["list_all_head"].format(builtin=len(builtin), custom=len(custom))]
    for t in FRAUD_TYPES:
        counts = [LIBRARY["count_builtin"].format(n=sum(1 for n in builtin if n.type == t))]
        n_custom = sum(1 for r in custom if r.type == t)
        n_disabled = sum(1 for n in builtin if n.type == t and n.id in disabled)
        if n_custom:
            counts.append(LIBRARY["count_custom"].format(n=n_custom))
        if n_disabled:
            counts.append(LIBRARY["count_disabled"].format(n=n_disabled))
        lines.append(LIBRARY["list_type_line"].format(type=t, counts="，".join(counts)))
    if custom:
        lines.append(LIBRARY["list_custom_head"])
        lines += [_custom_line(r, tz, with_type=True) for r in custom]
    lines.append(LIBRARY["list_all_tail"])
    return "\n".join(lines)


def type_listing(notice_type: str, builtin: list[Notice], disabled: set[str], custom: list[CustomNotice],
                 tz: dt.tzinfo) -> str:
    builtin = [n for n in builtin if n.type == notice_type]
    custom = [r for r in custom if r.type == notice_type]
    if not builtin and not custom:
        return LIBRARY["list_type_empty"].format(type=notice_type)
    lines = [LIBRARY["list_type_head"].format(type=notice_type, n=len(builtin) + len(custom))]
    lines += [LIBRARY["builtin_line"].format(id=n.id, title=n.title,
                                             mark=LIBRARY["disabled_mark"] if n.id in disabled else "")
              for n in builtin]
    lines += [_custom_line(r, tz) for r in custom]
    lines.append(LIBRARY["list_type_tail"])
    return "\n".join(lines)


def _custom_line(row: CustomNotice, tz: dt.tzinfo, *, with_type: bool = False) -> str:
    text = " ".join(row.text.split())
    preview = text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "……"
    key = "custom_line_typed" if with_type else "custom_line"
    return LIBRARY[key].format(id=row.id, type=row.type, preview=preview, day=f"{row.created_at.astimezone(tz):%m-%d}")


# ---------------------------------------------------------------- 删除, 停用, 启用


async def _custom_row(ctx: Context, word: str) -> CustomNotice | None:
    number = small_int(word.removeprefix(CUSTOM_PREFIX))
    if number is None:
        return None
    row = await ctx.session.get(CustomNotice, number)
    return row if row is not None and row.bot == ctx.app.name and row.removed_at is None else None


def _builtin(ctx: Context, word: str) -> Notice | None:
    return next((n for n in ctx.app.service(NoticeLibrary) if n.id == word), None)


@plugin.subcommand(COMMAND, "删除", pattern=first_word("notice_id"), usage="编号", summary="删除一条新增的反诈提醒")
async def delete_notice(ctx: Context, notice_id: str = "") -> None:
    if not notice_id:
        await ctx.reply(LIBRARY["ask_id"].format(word="删除", example="12"))
        return
    row = await _custom_row(ctx, notice_id)
    if row is None:
        key = "builtin_delete" if _builtin(ctx, notice_id) else "not_found"
        ctx.outcome = "refused: " + key
        await ctx.reply(LIBRARY[key].format(id=notice_id))
        return
    row.removed_at, row.removed_by = ctx.now, ctx.sender.id
    ctx.outcome = f"deleted {row.id}"
    await ctx.reply(LIBRARY["deleted"].format(id=row.id))


@plugin.subcommand(COMMAND, "停用", pattern=first_word("notice_id"), usage="编号", summary="停用一条内置反诈提醒")
async def disable_builtin(ctx: Context, notice_id: str = "") -> None:
    await _toggle_builtin(ctx, notice_id, verb="停用")


@plugin.subcommand(COMMAND, "启用", pattern=first_word("notice_id"), usage="编号", summary="重新启用一条停用的内置提醒")
async def enable_builtin(ctx: Context, notice_id: str = "") -> None:
    await _toggle_builtin(ctx, notice_id, verb="启用")


async def _toggle_builtin(ctx: Context, word: str, *, verb: str) -> None:
    if not word:
        await ctx.reply(LIBRARY["ask_id"].format(word=verb, example="shuadan-dianzan"))
        return
    notice = _builtin(ctx, word)
    if notice is None:
        key = "custom_disable" if await _custom_row(ctx, word) else "not_found"
        ctx.outcome = "refused: " + key
        await ctx.reply(LIBRARY[key].format(id=word.removeprefix(CUSTOM_PREFIX)))
        return
    row = await ctx.session.get(DisabledNotice, (ctx.app.name, notice.id))
    key = _set_disabled(ctx, notice, row) if verb == "停用" else await _set_enabled(ctx, row)
    ctx.outcome = f"{key} {notice.id}"
    await ctx.reply(LIBRARY[key].format(id=notice.id))


def _set_disabled(ctx: Context, notice: Notice, row: DisabledNotice | None) -> str:
    if row is not None:
        return "already_disabled"
    ctx.session.add(DisabledNotice(bot=ctx.app.name, notice_id=notice.id, disabled_by=ctx.sender.id,
                                   disabled_at=ctx.now))
    return "disabled"


async def _set_enabled(ctx: Context, row: DisabledNotice | None) -> str:
    if row is None:
        return "not_disabled"
    await ctx.session.delete(row)
    return "enabled"
