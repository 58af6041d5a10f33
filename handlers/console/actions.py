"""An action on the page is the chat command an officer would type, run as the account: the same
handler, role checks, transaction and audit row (actor `console:NAME`). What the handler would
have answered the officer in chat is collected for the page instead of sent to WeChat; what it
sends anyone else (the resident's answer) goes through the outbox as from chat."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from bot.context import Context
from bot.directory import Person
from bot.messages import IncomingMessage, Outgoing
from bot.outbox import NORMAL
from handlers.console.accounts import ROLES
from storage.console import ACTOR_PREFIX

log = logging.getLogger(__name__)
FAILED = "抱歉，刚才没有办成（系统出错），请稍后再试。"


def actor_id(name: str) -> str:
    return ACTOR_PREFIX + name


def as_person(name: str, role: str) -> Person:
    return Person(actor_id(name), name, ROLES[role])


@dataclass
class PageContext(Context):
    """A Context whose answers to the officer land on the page."""

    replies: list[str] = field(default_factory=list)

    async def reply(self, text: str, *, priority: int = NORMAL, mention: bool = True) -> None:
        self.replies.append(text)

    async def reply_private(self, text: str) -> None:
        self.replies.append(text)

    async def send(self, out: Outgoing, **kwargs: Any) -> int:
        if out.room_id is None and out.contact_id == self.sender.id:
            self.replies.append(out.text if out.kind == "text" else "（文件请在微信里用命令查看）")
            return 0
        return await super().send(out, **kwargs)

    async def send_to_contact(self, contact_id: str, text: str, **kwargs: Any) -> int:
        return await self.send(Outgoing(None, contact_id, text), **kwargs)


@dataclass(frozen=True)
class ActionResult:
    replies: list[str]
    outcome: str

    @property
    def ok(self) -> bool:
        return not self.outcome.startswith(("refused", "usage", "error", "not "))

    @property
    def text(self) -> str:
        return "\n".join(self.replies)


async def run_as(app, name: str, role: str, command: str) -> ActionResult:
    """Run `command` (`/咨询 回复 3 …`) as console account `name` in one transaction."""
    person = as_person(name, role)
    message = IncomingMessage(f"console-{uuid.uuid4().hex}", person.id, name, command, app.clock.now())
    try:
        async with app.sessions.begin() as session:
            ctx = PageContext(app, session, message, person, None, command)
            await app.router.run_command(ctx, command)
            await ctx.flush_counts()
    except Exception:
        log.exception("console action failed", extra={"account": name, "command": command.split(" ")[:2]})
        return ActionResult([FAILED], "error")
    app.outbox.wake()
    return ActionResult(ctx.replies, ctx.outcome)


def may(app, role: str, command: str, verb: str | None = None) -> bool:
    """Whether a console role may run `/command verb` (the command's own role check)."""
    spec = app.registry.command(command)
    if spec is None:
        return False
    sub = spec.subcommand(verb) if verb else None
    return ROLES[role] in spec.roles_of(sub)


async def read_as(app, name: str, role: str, command: str) -> str:
    """A listing command's answer (`/计划`, `/反诈 列表`) for a page: the same handler and role check,
    in a transaction rolled back after, and no audit row (reading a list is not an action)."""
    from bot.commands import parse_command

    parsed = parse_command(command)
    spec = app.registry.command(parsed.name) if parsed else None
    if spec is None:
        return ""
    sub = spec.subcommand(parsed.args[0]) if parsed.args else None
    if ROLES[role] not in spec.roles_of(sub):
        return ""
    person = as_person(name, role)
    message = IncomingMessage(f"console-{uuid.uuid4().hex}", person.id, name, command, app.clock.now())
    async with app.sessions() as session:
        ctx = PageContext(app, session, message, person, None, command, command=spec, command_word=parsed.name)
        ctx.args, ctx.rest = parsed.args, parsed.rest
        if sub is None:
            await spec.handler(ctx)
        else:
            ctx.args, ctx.rest = parsed.args[1:], parsed.rest[len(parsed.args[0]):].strip()
            match = sub.pattern.fullmatch(ctx.rest) if sub.pattern is not None else None
            await sub.handler(ctx, **({k: v for k, v in match.groupdict().items() if v is not None} if match else {}))
        await session.rollback()
    return "\n".join(ctx.replies)
