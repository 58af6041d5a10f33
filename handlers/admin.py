"""Binding roles by one-time code, and the audit log for officers."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.directory import Person
from bot.edge import small_int
from bot.masking import mask_text
from bot.plugin import OFFICER, Plugin
from storage.models import AuditEntry, BindCode

plugin = Plugin("admin", order=20)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed by phone
CODE_TTL = timedelta(minutes=10)
ROLE_NAMES = {"officer": "社区民警", "staff": "辅警/文职/警务助理", "property": "物业", "building_lead": "楼组长",
              "resident": "居民"}

TEXTS = {
    "bound": "绑定成功：您的身份已设为“{role}”。发送 /帮助 查看可用的命令。",
    "expired": "这个绑定码已过期或已被使用，请向管理员重新索取。",
    "audit_empty": "还没有操作记录。",
    "audit_head": "最近{n}条操作记录：",
}


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


async def create_bind_code(session: AsyncSession, bot: str, role: str, now: datetime) -> BindCode:
    code = BindCode(code=new_code(), bot=bot, role=role, expires_at=now + CODE_TTL)
    session.add(code)
    await session.flush()
    return code


@plugin.phrase(rf"^[{CODE_ALPHABET}]{{8}}$", where="private", priority=100)
async def redeem(ctx: Context, match: re.Match) -> bool:
    code = await ctx.session.get(BindCode, match.group(0))
    if code is None or code.bot != ctx.app.name:
        return False  # just eight capital letters, not a code of ours
    if code.used_by or code.expires_at <= ctx.now:
        await ctx.reply(TEXTS["expired"])
        return True
    code.used_by, code.used_at = ctx.sender.id, ctx.now
    person = Person(ctx.sender.id, ctx.message.sender_name or ctx.sender.name, code.role, True)
    await ctx.app.directory.save_person(ctx.session, person, ctx.now, source="bind")
    await ctx.reply(TEXTS["bound"].format(role=ROLE_NAMES[code.role]))
    return True


@plugin.command("审计", aliases=("操作记录",), roles=OFFICER, summary="查看最近的操作记录", usage="[条数]")
async def show_audit(ctx: Context) -> None:
    n = (small_int(ctx.args[0]) if ctx.args else None) or 10
    n = max(1, min(n, 50))
    rows = (await ctx.session.execute(
        select(AuditEntry).where(AuditEntry.bot == ctx.app.name).order_by(AuditEntry.id.desc()).limit(n)
    )).scalars().all()
    if not rows:
        await ctx.reply(TEXTS["audit_empty"])
        return
    lines = [TEXTS["audit_head"].format(n=len(rows))]
    for r in rows:
        who = ctx.app.directory.person(r.actor_id).name
        lines.append(f"{r.at.astimezone(ctx.app.clock.tz):%m-%d %H:%M} {who} /{r.command} {mask_text(r.args)} → {r.outcome}")
    await ctx.reply("\n".join(lines))


@plugin.cli
def bind_code_command(sub) -> None:
    from bot.clitools import add_config_option
    from bot.config import ROLES

    p = sub.add_parser("bind-code", help="print a one-time code that binds a contact to a role")
    p.add_argument("--role", required=True, choices=list(ROLES))
    add_config_option(p)
    p.set_defaults(func=_print_bind_code)


def _print_bind_code(args) -> int:
    import asyncio

    from bot.clitools import load_or_exit, with_database
    from bot.clock import SystemClock

    config = load_or_exit(args.config)

    async def work(session) -> str:
        return (await create_bind_code(session, config.bot.name, args.role, SystemClock().now())).code

    code = asyncio.run(with_database(config, work))
    minutes = int(CODE_TTL.total_seconds() // 60)
    print(f"{code}\n(send this code to the bot in a private chat within {minutes} minutes to become {args.role})")
    return 0
