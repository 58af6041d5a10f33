"""The groups the bot is in: known by their stable room id, categorised by an officer.

/本群 类别 居民群   (inside the group)     /群 类别 群名 居民群     /群  (list)
Rooms found on the account (at login) are registered uncategorised; uncategorised groups get no pushes.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.config import CATEGORIES
from bot.context import Context
from bot.directory import Group
from bot.plugin import STAFF, Plugin

log = logging.getLogger(__name__)
plugin = Plugin("groups", order=70)

TEXTS = {
    "category_usage": "居民群（可选：{names}）",
    "usage": "用法：/群 类别 群名 居民群（可选：{names}）；只发 /群 可查看所有群",
    "bad_category": "没有“{value}”这个类别，可选：{names}",
    "no_group": "没有找到名为“{name}”的群。发送 /群 查看所有群。",
    "set": "好的，“{name}”已设为{category}。",
    "list_head": "我所在的群：",
    "line": "· {name}：{category}，{members}人，最近活动 {active}",
    "uncategorised": "未分类（不会收到推送）",
    "never": "无",
    "none": "我还不在任何群里。",
}


def _category(value: str) -> str | None:
    value = value.strip()
    if value in CATEGORIES:
        return value
    for key, label in CATEGORIES.items():
        if value in (label, label.removesuffix("群")):
            return key
    return None


def _names() -> str:
    return "、".join(CATEGORIES.values())


async def _set(ctx: Context, group: Group, value: str) -> None:
    category = _category(value)
    if category is None:
        await ctx.reply(TEXTS["bad_category"].format(value=value, names=_names()))
        ctx.outcome = "refused: bad category"
        return
    await ctx.app.directory.save_group(ctx.session, replace(group, category=category), ctx.now)
    await ctx.reply(TEXTS["set"].format(name=group.name, category=CATEGORIES[category]))


plugin.command_group("本群", roles=STAFF, where="group", summary="设置本群类别")


@plugin.subcommand("本群", "类别", pattern=r"(?P<value>\S+)", usage=TEXTS["category_usage"].format(names=_names()),
                   summary="设置本群类别")
async def this_group(ctx: Context, value: str) -> None:
    await _set(ctx, ctx.group, value)


@plugin.command("群", roles=STAFF, summary="查看所有群")
async def groups(ctx: Context) -> None:
    if ctx.args:  # a verb that is no subcommand's
        await ctx.reply(TEXTS["usage"].format(names=_names()))
        return
    await ctx.reply(list_text(ctx.app))


@plugin.subcommand("群", "类别", pattern=r"(?P<name>.+)\s+(?P<value>\S+)",
                   usage="群名 " + TEXTS["category_usage"].format(names=_names()), summary="设置某个群的类别")
async def set_category(ctx: Context, name: str, value: str) -> None:
    name = " ".join(name.split())  # as typed on a phone: spacing inside the name does not matter
    group = ctx.app.directory.group_named(name)
    if group is None:
        await ctx.reply(TEXTS["no_group"].format(name=name))
        return
    await _set(ctx, group, value)


def list_text(app) -> str:
    groups = sorted(app.directory.groups.values(), key=lambda g: (g.category is None, g.category or "", g.name))
    if not groups:
        return TEXTS["none"]
    lines = [TEXTS["list_head"]]
    for g in groups:
        when = app.tally.last_active.get(g.id) or g.last_active_at
        active = when.astimezone(app.clock.now().tzinfo).strftime("%m-%d %H:%M") if when else TEXTS["never"]
        lines.append(TEXTS["line"].format(name=g.name, category=CATEGORIES.get(g.category, TEXTS["uncategorised"])
                                          if g.category else TEXTS["uncategorised"],
                                          members=g.member_count, active=active))
    return "\n".join(lines)


@plugin.on("connected")
async def sync_rooms(app) -> int:
    """At every login, register the rooms the account shows (uncategorised when new); returns
    how many are new."""
    rooms = await app.list_rooms()
    if rooms is None:
        return 0
    new = 0
    async with app.transaction() as session:
        for room in rooms:
            known = app.directory.group(room.id)
            if known is None:
                await app.directory.save_group(session, Group(room.id, room.name, None, room.member_count),
                                               app.clock.now())
                new += 1
            elif (known.name, known.member_count) != (room.name, room.member_count):
                await app.directory.save_group(session, replace(known, name=room.name, member_count=room.member_count),
                                               app.clock.now())
    if new:
        log.info("rooms registered from the account", extra={"new": new})
    return new
