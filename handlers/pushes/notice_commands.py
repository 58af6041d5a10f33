"""Officers keep the anti-fraud notice library in chat, under the /反诈 command:

    /反诈 新增 冒充公检法 公检法机关不会通过电话办案……     add one; it joins the rotation
    /反诈 列表 [类型]                                      what exists, with numbers
    /反诈 删除 12                                          an added one, for good
    /反诈 停用 shuadan-dianzan   /反诈 启用 shuadan-dianzan a built-in one, off and on again

The words here are no anti-fraud type and no category, so `/反诈 [类型] [目标]` (push one now) is
read as before; plugin.py hands a /反诈 whose first word is one of them to `handle`.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.context import Context
from handlers.pushes.delivery import NoticeLibrary, current_library, custom_notice
from handlers.pushes.notices import CUSTOM_PREFIX, FRAUD_TYPES, MAX_TEXT_CHARS, Notice
from storage.pushes import CustomNotice, DisabledNotice, active_custom_notices, disabled_notice_ids

TYPES_TEXT = "、".join(FRAUD_TYPES)
PREVIEW_CHARS = 30

TEXTS = {
    "add_usage": "用法：/反诈 新增 类型 提醒文字，例如：/反诈 新增 冒充公检法 公检法机关不会通过电话、微信办案，"
                 "更没有“安全账户”。类型有：" + TYPES_TEXT,
    "bad_type": "抱歉，没有“{word}”这个类型。类型有：" + TYPES_TEXT,
    "need_text": "请在类型后面写上提醒文字，例如：/反诈 新增 {type} 接到陌生来电要求转账，先挂电话再核实。",
    "too_long": "提醒文字有 {n} 个字，最多 {max} 个字，请精简后再发。",
    "duplicate": "已经有一条一样的提醒了（编号 {id}），没有重复添加。",
    "added": "好的，已新增反诈提醒 {id}（{type}），会和其他提醒一起轮换推送。居民会看到：\n{message}\n"
             "不需要了可以发 /反诈 删除 {id}。",
    "list_all_head": "反诈提醒库（内置 {builtin} 条，新增 {custom} 条）：",
    "list_type_line": "{type}：{counts}",
    "count_builtin": "内置 {n} 条",
    "count_custom": "新增 {n} 条",
    "count_disabled": "停用 {n} 条",
    "list_custom_head": "新增的提醒：",
    "list_all_tail": "发 /反诈 列表 类型 可以看到每一条和它的编号。",
    "list_type_head": "{type}的反诈提醒（共 {n} 条）：",
    "list_type_empty": "{type}现在没有反诈提醒。可以用 /反诈 新增 {type} 提醒文字 添加。",
    "builtin_line": "· 内置 {id}：{title}{mark}",
    "custom_line": "· 新增 {id}：{preview}（{day} 添加）",
    "custom_line_typed": "· 新增 {id}（{type}）：{preview}（{day} 添加）",
    "disabled_mark": "（已停用）",
    "list_type_tail": "新增的可以 /反诈 删除 编号，内置的可以 /反诈 停用 编号。",
    "ask_id": "请写上提醒的编号，例如：/反诈 {word} {example}。发 /反诈 列表 类型 可以看到编号。",
    "not_found": "没有编号为“{id}”的反诈提醒。发 /反诈 列表 类型 可以看到编号。",
    "deleted": "已删除反诈提醒 {id}，以后不会再推送。",
    "builtin_delete": "“{id}”是内置提醒，不能删除。不想再推送它，可以发 /反诈 停用 {id}。",
    "custom_disable": "提醒 {id} 是新增的，不想再推送请发 /反诈 删除 {id}。",
    "disabled": "已停用内置提醒 {id}，以后不会再推送。要恢复请发 /反诈 启用 {id}。",
    "already_disabled": "内置提醒 {id} 已经是停用的了。要恢复请发 /反诈 启用 {id}。",
    "enabled": "已启用内置提醒 {id}，会重新加入轮换推送。",
    "not_disabled": "内置提醒 {id} 没有停用，正在轮换推送中。",
}

ADD, LIST, DELETE, DISABLE, ENABLE = "新增", "列表", "删除", "停用", "启用"
SUBCOMMANDS = {ADD: ADD, "添加": ADD, LIST: LIST, "查看": LIST, DELETE: DELETE, DISABLE: DISABLE, ENABLE: ENABLE}


def fraud_type(word: str) -> str | None:
    """A type by its name or a part of it of two characters or more ("公检法" -> 冒充公检法)."""
    return next((t for t in FRAUD_TYPES if word == t or (len(word) >= 2 and word in t)), None)


def display_id(notice: Notice) -> str:
    """What officers type: the number of an added notice, the file name of a built-in one."""
    return notice.id.removeprefix(CUSTOM_PREFIX) if notice.is_custom else notice.id


async def handle(ctx: Context) -> None:
    words = ctx.rest.split(maxsplit=2)
    sub = SUBCOMMANDS[words[0]]
    if sub == ADD:
        await add_notice(ctx, words[1:])
    elif sub == LIST:
        await list_notices(ctx, words[1:])
    elif sub == DELETE:
        await delete_notice(ctx, words[1:])
    else:
        await toggle_builtin(ctx, words[1:], disable=sub == DISABLE)


# ---------------------------------------------------------------- 新增


async def add_notice(ctx: Context, words: list[str]) -> None:
    if not words:
        await ctx.reply(TEXTS["add_usage"])
        return
    notice_type = fraud_type(words[0])
    if notice_type is None:
        ctx.outcome = "refused: type"
        await ctx.reply(TEXTS["bad_type"].format(word=words[0]))
        return
    text = words[1].strip() if len(words) > 1 else ""
    if not text:
        await ctx.reply(TEXTS["need_text"].format(type=notice_type))
        return
    if len(text) > MAX_TEXT_CHARS:
        ctx.outcome = "refused: too long"
        await ctx.reply(TEXTS["too_long"].format(n=len(text), max=MAX_TEXT_CHARS))
        return
    same = (await ctx.session.execute(select(CustomNotice.id).where(
        CustomNotice.bot == ctx.app.name, CustomNotice.removed_at.is_(None),
        CustomNotice.type == notice_type, CustomNotice.text == text))).scalars().first()
    if same is not None:
        await ctx.reply(TEXTS["duplicate"].format(id=same))
        return
    row = CustomNotice(bot=ctx.app.name, type=notice_type, text=text, created_by=ctx.sender.id,
                       created_at=ctx.now)
    ctx.session.add(row)
    await ctx.session.flush()
    ctx.outcome = f"added {row.id}"
    await ctx.reply(TEXTS["added"].format(id=row.id, type=notice_type,
                                          message=custom_notice(row).as_message()))


# ---------------------------------------------------------------- 列表


async def list_notices(ctx: Context, words: list[str]) -> None:
    if words:
        notice_type = fraud_type(words[0])
        if notice_type is None:
            await ctx.reply(TEXTS["bad_type"].format(word=words[0]))
            return
        await ctx.reply(await _type_listing(ctx, notice_type))
        return
    await ctx.reply(await _overview(ctx))


async def _overview(ctx: Context) -> str:
    builtin = ctx.app.service(NoticeLibrary)
    disabled = await disabled_notice_ids(ctx.session, ctx.app.name)
    custom = await active_custom_notices(ctx.session, ctx.app.name)
    lines = [TEXTS["list_all_head"].format(builtin=len(builtin), custom=len(custom))]
    for t in FRAUD_TYPES:
        counts = [TEXTS["count_builtin"].format(n=sum(1 for n in builtin if n.type == t))]
        n_custom = sum(1 for r in custom if r.type == t)
        n_disabled = sum(1 for n in builtin if n.type == t and n.id in disabled)
        if n_custom:
            counts.append(TEXTS["count_custom"].format(n=n_custom))
        if n_disabled:
            counts.append(TEXTS["count_disabled"].format(n=n_disabled))
        lines.append(TEXTS["list_type_line"].format(type=t, counts="，".join(counts)))
    if custom:
        lines.append(TEXTS["list_custom_head"])
        lines += [_custom_line(ctx, r, with_type=True) for r in custom]
    lines.append(TEXTS["list_all_tail"])
    return "\n".join(lines)


async def _type_listing(ctx: Context, notice_type: str) -> str:
    builtin = [n for n in ctx.app.service(NoticeLibrary) if n.type == notice_type]
    custom = [r for r in await active_custom_notices(ctx.session, ctx.app.name) if r.type == notice_type]
    if not builtin and not custom:
        return TEXTS["list_type_empty"].format(type=notice_type)
    disabled = await disabled_notice_ids(ctx.session, ctx.app.name)
    lines = [TEXTS["list_type_head"].format(type=notice_type, n=len(builtin) + len(custom))]
    lines += [TEXTS["builtin_line"].format(id=n.id, title=n.title,
                                           mark=TEXTS["disabled_mark"] if n.id in disabled else "")
              for n in builtin]
    lines += [_custom_line(ctx, r) for r in custom]
    lines.append(TEXTS["list_type_tail"])
    return "\n".join(lines)


def _custom_line(ctx: Context, row: CustomNotice, *, with_type: bool = False) -> str:
    text = " ".join(row.text.split())
    preview = text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "……"
    day = f"{row.created_at.astimezone(ctx.app.clock.tz):%m-%d}"
    key = "custom_line_typed" if with_type else "custom_line"
    return TEXTS[key].format(id=row.id, type=row.type, preview=preview, day=day)


# ---------------------------------------------------------------- 删除, 停用, 启用


async def _custom_row(ctx: Context, word: str) -> CustomNotice | None:
    number = word.removeprefix(CUSTOM_PREFIX)
    if not number.isdigit():
        return None
    row = await ctx.session.get(CustomNotice, int(number))
    return row if row is not None and row.bot == ctx.app.name and row.removed_at is None else None


def _builtin(ctx: Context, word: str) -> Notice | None:
    return next((n for n in ctx.app.service(NoticeLibrary) if n.id == word), None)


async def delete_notice(ctx: Context, words: list[str]) -> None:
    if not words:
        await ctx.reply(TEXTS["ask_id"].format(word=DELETE, example="12"))
        return
    word = words[0]
    row = await _custom_row(ctx, word)
    if row is None:
        key = "builtin_delete" if _builtin(ctx, word) else "not_found"
        ctx.outcome = "refused: " + key
        await ctx.reply(TEXTS[key].format(id=word))
        return
    row.removed_at, row.removed_by = ctx.now, ctx.sender.id
    ctx.outcome = f"deleted {row.id}"
    await ctx.reply(TEXTS["deleted"].format(id=row.id))


async def toggle_builtin(ctx: Context, words: list[str], *, disable: bool) -> None:
    word_name = DISABLE if disable else ENABLE
    if not words:
        await ctx.reply(TEXTS["ask_id"].format(word=word_name, example="shuadan-dianzan"))
        return
    word = words[0]
    notice = _builtin(ctx, word)
    if notice is None:
        key = "custom_disable" if await _custom_row(ctx, word) else "not_found"
        ctx.outcome = "refused: " + key
        await ctx.reply(TEXTS[key].format(id=word.removeprefix(CUSTOM_PREFIX)))
        return
    row = await ctx.session.get(DisabledNotice, (ctx.app.name, notice.id))
    if disable and row is None:
        ctx.session.add(DisabledNotice(bot=ctx.app.name, notice_id=notice.id, disabled_by=ctx.sender.id,
                                       disabled_at=ctx.now))
        key = "disabled"
    elif disable:
        key = "already_disabled"
    elif row is not None:
        await ctx.session.delete(row)
        key = "enabled"
    else:
        key = "not_disabled"
    ctx.outcome = f"{key} {notice.id}"
    await ctx.reply(TEXTS[key].format(id=notice.id))


async def has_notice(ctx: Context, notice_type: str | None) -> bool:
    """Whether a push of this type has anything to send once stopped and deleted ones are left out."""
    library = await current_library(ctx.app, ctx.session)
    return any(notice_type is None or n.type == notice_type for n in library)
