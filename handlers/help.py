"""/帮助 and the menu: what each person may do, and nothing they may not."""

from __future__ import annotations

from bot.context import Context
from bot.plugin import EVERYONE, Plugin

plugin = Plugin("help", order=10)

TEXTS = {
    "menu_head": "您好！我是{post}的警民群助手，可以帮您：",
    "menu_tail": "有紧急情况请直接拨打 110（火警 119，急救 120）。",
    "staff_head": "您好！我是{post}的警民群助手。",
    "commands_head": "您可以使用的命令（括号里是后面可以跟的词）：",
    "commands_tail": "发“/帮助 命令”看这个命令的全部写法，比如 /帮助 预约。",
    "no_such_command": "没有“{word}”这个命令。发 /帮助 看全部命令。",
    "unclear_head": "不好意思，没太看懂您的意思。我可以帮您：",
    "not_text_head": "收到了。我只看得懂文字，您可以这样跟我说：",
}
# What residents type for the menu, with or without a slash, and the greetings that want one.
MENU_WORDS = r"帮助|菜单|功能|help|帮帮我|怎么用|你能干什么|你会什么|有什么功能|在吗|在不在|你好|您好|你好啊|您好啊|哈喽|喂"


def menu_text(app, role: str, head: str = "menu_head") -> str:
    """The plain menu residents see when they greet the bot or @ it with something unclear."""
    lines = [TEXTS[head].format(post=app.config.bot.police_post)]
    lines += [f"· {text}" for text, roles in app.registry.menu if role in roles]
    lines.append(TEXTS["menu_tail"])
    return "\n".join(lines)


def commands_text(app, role: str) -> str:
    """One line per command `role` may use, from their declarations: with a dozen plugins the
    full forms no longer fit one chat message (nor a phone screen); /帮助 命令 gives those."""
    lines = [TEXTS["commands_head"]]
    for c in app.registry.commands:
        verbs = [s.name for s in c.subcommands if role in c.roles_of(s)]
        if not verbs and (c.handler is None or role not in c.roles):
            continue
        line = f"/{c.name}：{c.summary}" if c.summary else f"/{c.name}"
        if verbs:
            line += f"（{'、'.join(verbs)}）"
        lines.append(line)
    lines.append(TEXTS["commands_tail"])
    return "\n".join(lines)


def command_details(app, role: str, word: str) -> str | None:
    """Every form of one command `role` may use, with what each does (/帮助 预约)."""
    name = word.lstrip("/／")
    c = next((c for c in app.registry.commands if name in (c.name, *c.aliases)), None)
    if c is None:
        return None
    lines = [f"{c.usage_line()}：{c.summary}"] if c.handler is not None and role in c.roles else []
    lines += [f"{c.usage_line(s)}：{s.summary}" for s in c.subcommands if role in c.roles_of(s)]
    return "\n".join(lines) or None


@plugin.command("帮助", aliases=("help", "菜单", "功能"), roles=EVERYONE, summary="查看我能帮您做什么")
async def show_help(ctx: Context) -> None:
    if ctx.role != "resident" and ctx.args:
        details = command_details(ctx.app, ctx.role, ctx.args[0])
        await ctx.reply(details or TEXTS["no_such_command"].format(word=ctx.args[0]))
        return
    if ctx.role != "resident":
        head = TEXTS["staff_head"].format(post=ctx.app.config.bot.police_post)
        await ctx.reply(head + "\n" + commands_text(ctx.app, ctx.role))
        return
    await ctx.reply(menu_text(ctx.app, ctx.role))


@plugin.phrase(rf"^\s*(?:{MENU_WORDS})[\s。.!！?？~～]*$", where="private")
async def menu_words(ctx: Context, match) -> bool:
    """帮助 / 菜单 / 你好 without a slash, in private: the menu, as /帮助 gives it."""
    await show_help(ctx)
    return True


@plugin.on("unhandled_mention")
async def menu_on_mention(ctx: Context) -> None:
    await ctx.reply(menu_text(ctx.app, ctx.role))


@plugin.on("unhandled_private")
async def menu_on_unclear(ctx: Context) -> None:
    """Nothing understood a private message: never silence, the menu with a word of why."""
    head = "unclear_head" if ctx.text else "not_text_head"
    await ctx.reply(menu_text(ctx.app, ctx.role, head))
