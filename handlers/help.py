"""/帮助 and the menu: what each person may do, and nothing they may not."""

from __future__ import annotations

from bot.context import Context
from bot.plugin import EVERYONE, Plugin

plugin = Plugin("help", order=10)

TEXTS = {
    "menu_head": "您好！我是{post}的警民群助手，可以帮您：",
    "menu_tail": "有紧急情况请直接拨打 110（火警 119，急救 120）。",
    "commands_head": "您可以使用的命令：",
}


def menu_text(app, role: str) -> str:
    """The plain menu residents see when they greet the bot or @ it with something unclear."""
    lines = [TEXTS["menu_head"].format(post=app.config.bot.police_post)]
    lines += [f"· {text}" for text, roles in app.registry.menu if role in roles]
    lines.append(TEXTS["menu_tail"])
    return "\n".join(lines)


def commands_text(app, role: str) -> str:
    """Each command and subcommand `role` may use, from their declarations."""
    lines = [TEXTS["commands_head"]]
    for c in app.registry.commands:
        if c.handler is not None and role in c.roles:
            lines.append(f"{c.usage_line()}：{c.summary}")
        lines += [f"{c.usage_line(s)}：{s.summary}" for s in c.subcommands if role in c.roles_of(s)]
    return "\n".join(lines)


@plugin.command("帮助", aliases=("help", "菜单", "功能"), roles=EVERYONE, summary="查看我能帮您做什么")
async def show_help(ctx: Context) -> None:
    text = menu_text(ctx.app, ctx.role)
    if ctx.role != "resident":
        text += "\n\n" + commands_text(ctx.app, ctx.role)
    await ctx.reply(text)


@plugin.on("unhandled_mention")
async def menu_on_mention(ctx: Context) -> None:
    await ctx.reply(menu_text(ctx.app, ctx.role))
