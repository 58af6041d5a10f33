"""Every incoming message goes to exactly one of: the sender's dialog, a command, or the intents.

Ordinary chatter (the vast majority) touches no database row on its own: it is counted in a
write-behind tally. A message that leads to action is handled in one transaction that also
records its id, so a redelivered message is handled once, even across restarts.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections import OrderedDict
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.commands import parse_command, strip_mentions
from bot.context import Context
from bot.directory import Group
from bot.masking import mask_text
from bot.messages import (
    FriendRequest, IncomingMessage, MemberJoined, MemberLeft, MessageKind, RoomInvitation, RoomRenamed,
)
from bot.plugin import CommandSpec, SubcommandSpec
from storage.models import AuditEntry, ProcessedMessage
from storage.db import has_work
from storage.upsert import insert_ignoring

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

MAX_TEXT = 4000  # longer messages are counted, but only this much is read
REDELIVERY_WINDOW = timedelta(seconds=10)

TEXTS = {
    "refused": "抱歉，这个命令只有{roles}可以使用。",
    "unknown_command": "没有“{name}”这个命令。发送 /帮助 可以查看您能用的功能。",
    "group_only": "这个命令请在群里使用。",
    "private_only": "这个命令请私聊我使用。",
    "usage": "用法：{lines}",
    "error": "抱歉，系统刚才出了点问题，没有办成。请稍后再试，或直接联系社区民警。",
}
ROLE_NAMES = {"officer": "社区民警", "staff": "辅警和文职人员", "property": "物业",
              "building_lead": "楼组长", "resident": "居民"}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def clean_text(text: str) -> str:
    return _CONTROL.sub("", unicodedata.normalize("NFC", text[: MAX_TEXT * 2]))[:MAX_TEXT].strip()


class RecentIds:
    """The last N message ids seen, to drop redeliveries without asking the database."""

    def __init__(self, size: int = 100_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def add(self, message_id: str) -> bool:
        """True the first time an id is seen."""
        if message_id in self._ids:
            return False
        self._ids[message_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


class _AlreadyHandled(Exception):
    """A message id already recorded (a redelivery older than RecentIds remembers): roll back."""


class Router:
    def __init__(self, app: App) -> None:
        self.app = app
        self.recent = RecentIds()
        self._last_text: OrderedDict[tuple[str, str, str], object] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}
        self.inflight = 0
        reg = app.registry
        self._preempting = reg.preempting
        self._commands: dict[str, CommandSpec] = {}
        for spec in reg.commands:
            for name in (spec.name, *spec.aliases):
                self._commands[name] = spec

    async def load(self, session) -> None:
        since = self.app.clock.now() - timedelta(days=2)
        ids = await session.execute(select(ProcessedMessage.id).where(
            ProcessedMessage.bot == self.app.name, ProcessedMessage.received_at >= since))
        for message_id in ids.scalars():
            self.recent.add(message_id)

    # ---- entry -----------------------------------------------------------------------------

    async def handle_event(self, event) -> None:
        self.inflight += 1
        try:
            if isinstance(event, IncomingMessage):
                await self.on_message(event)
            elif isinstance(event, MemberJoined):
                await self._run_event("joined", event, event.room_id)
            elif isinstance(event, MemberLeft):
                await self._run_event("left", event, event.room_id)
            elif isinstance(event, RoomRenamed):
                await self._renamed(event)
            elif isinstance(event, FriendRequest):
                await self._run_event("friend", event, None)
            elif isinstance(event, RoomInvitation):
                await self._run_event("invitation", event, None)
        except Exception:
            log.exception("event handling failed", extra={"event": type(event).__name__})
        finally:
            self.inflight -= 1

    async def _renamed(self, event: RoomRenamed) -> None:
        """A group keeps its id, category and counts under a new name."""
        group = self.app.directory.group(event.room_id)
        if group is None or not event.name or group.name == event.name:
            return
        async with self.app.sessions.begin() as session:
            await self.app.directory.save_group(session, replace(group, name=event.name), event.at)
        log.info("group renamed", extra={"room_id": event.room_id})

    async def _run_event(self, name: str, event, room_id: str | None) -> None:
        handlers = self.app.registry.events.get(name, [])
        if not handlers:
            return
        async with self.app.sessions.begin() as session:
            for handler in handlers:
                await handler(self.app, session, event)
        self.app.outbox.wake()

    # ---- messages --------------------------------------------------------------------------

    async def on_message(self, msg: IncomingMessage) -> None:
        if msg.sender_id == self.app.transport.bot_id:
            return
        async with self._chat_lock(msg.chat_key):
            if not self.recent.add(msg.id) or self._is_redelivery(msg):
                return
            group = await self._group_of(msg)
            self.app.tally.message(msg, group)
            if msg.kind == MessageKind.RECALL:
                return
            # What handlers read is what the person wrote, without "@警民群助手 " in front.
            text = strip_mentions(clean_text(msg.text)) if msg.kind == MessageKind.TEXT else ""
            route = self._pick_route(msg, text)
            if route is None:
                self.app.tally.processed(msg)
                return
            await self._handle(msg, group, text, route)

    def _is_redelivery(self, msg: IncomingMessage) -> bool:
        """The same sender and text in the same chat within 10 s: a gateway redelivery.

        Not inside a dialog: there "1" then "1" (first choice, then first choice again) is
        two real answers, and a duplicate delivery is still caught by its message id."""
        if msg.kind != MessageKind.TEXT or not msg.text or self.app.dialogs.maybe_active(msg):
            return False
        key = (msg.chat_key, msg.sender_id, msg.text)
        previous = self._last_text.get(key)
        self._last_text[key] = msg.at
        self._last_text.move_to_end(key)
        while len(self._last_text) > 10_000:
            self._last_text.popitem(last=False)
        return previous is not None and msg.at - previous < REDELIVERY_WINDOW

    def _pick_route(self, msg: IncomingMessage, text: str):
        found = None
        if self._preempting and msg.kind == MessageKind.TEXT and text and parse_command(text) is None:
            found = self.app.classify(text)
            if found.intent in self._preempting:
                return ("urgent", found)  # a cry for help is never swallowed by a dialog or phrase
        if self.app.dialogs.maybe_active(msg):
            return ("dialog", None)
        if msg.kind != MessageKind.TEXT or not text:
            return None
        parsed = parse_command(text)
        if parsed is not None:
            spec = self._commands.get(parsed.name)
            if spec is None and parsed.prefix == "#" and not msg.is_private:
                return None  # "#话题" in a group is chatter, not a command
            return ("command", (parsed, spec))
        for phrase in self.app.registry.phrases:
            if phrase.where != "any" and (phrase.where == "private") != msg.is_private:
                continue
            if phrase.pattern.search(text):
                return ("phrase", None)
        found = found or self.app.classify(text)
        if self.app.registry.intent_handlers(found.intent) or msg.mentions_bot:
            return ("intent", found)
        return None

    async def _handle(self, msg: IncomingMessage, group: Group | None, text: str, route) -> None:
        kind, detail = route
        acted = True
        try:
            async with self.app.sessions.begin() as session:
                ctx = Context(self.app, session, msg, self.app.directory.person(msg.sender_id, msg.sender_name),
                              group, text)
                handled = False
                if kind == "dialog":
                    handled = await self.app.dialogs.handle(ctx)
                    if not handled and msg.kind == MessageKind.TEXT and text:
                        kind, detail = self._pick_route_after_dialog(msg, text)
                if kind == "urgent":
                    await self._run_urgent(ctx, detail)
                elif kind == "command":
                    await self._run_command(ctx, *detail)
                elif kind in ("phrase", "intent") and not handled:
                    await self._run_intents(ctx, detail)
                # The message id goes in with what the handler wrote, so a redelivery (even
                # after a restart) is handled once. A handler that only looked ("not for me")
                # wrote nothing: its id is noted with the chatter, and no transaction is paid.
                await ctx.flush_counts()
                acted = has_work(session)
                if acted and not await self._first_time(session, msg):
                    raise _AlreadyHandled
        except _AlreadyHandled:
            log.info("message handled before; this run rolled back", extra={"message_id": msg.id})
        except Exception:
            log.exception("handler failed", extra={"message_id": msg.id, "route": kind})
            await self._apologise(msg)
        if acted:
            self.app.outbox.wake()
        else:
            self.app.tally.processed(msg)

    def _pick_route_after_dialog(self, msg: IncomingMessage, text: str):
        """The dialog had ended (timed out): route the message as if there had been none."""
        route = self._pick_route(msg, text)
        return route if route else ("none", None)

    async def _first_time(self, session, msg: IncomingMessage) -> bool:
        stmt = insert_ignoring(session.bind.dialect.name, ProcessedMessage.__table__)
        result = await session.execute(stmt, {"bot": self.app.name, "id": msg.id, "received_at": self.app.clock.now()})
        return bool(result.rowcount)

    async def run_command(self, ctx: Context, text: str) -> bool:
        """A command written somewhere else (the console's page) run in `ctx` as if typed in chat:
        the same role checks, handlers and audit row. False: `text` is not a command."""
        parsed = parse_command(text)
        if parsed is None:
            return False
        await self._run_command(ctx, parsed, self._commands.get(parsed.name))
        return True

    async def _run_command(self, ctx: Context, parsed, spec: CommandSpec | None) -> None:
        if spec is None:
            await ctx.reply(TEXTS["unknown_command"].format(name=parsed.name))
            return
        sub = spec.subcommand(parsed.args[0]) if parsed.args else None
        ctx.command, ctx.command_word, ctx.args, ctx.rest = spec, parsed.name, parsed.args, parsed.rest
        if sub is not None:
            ctx.args, ctx.rest = parsed.args[1:], parsed.rest[len(parsed.args[0]):].strip()
        roles = spec.roles_of(sub)
        if ctx.role not in roles:
            allowed = "、".join(ROLE_NAMES[r] for r in ("officer", "staff", "property", "building_lead") if r in roles)
            await ctx.reply(TEXTS["refused"].format(roles=allowed or "工作人员"))
            ctx.outcome = "refused: role"
        elif spec.where == "group" and ctx.is_private:
            await ctx.reply(TEXTS["group_only"])
            ctx.outcome = "refused: not in a group"
        elif spec.where == "private" and not ctx.is_private:
            await ctx.reply(TEXTS["private_only"])
            ctx.outcome = "refused: not private"
        elif sub is not None:
            await self._run_subcommand(ctx, spec, sub)
        elif spec.handler is not None:
            await spec.handler(ctx)
        else:
            await ctx.reply(TEXTS["usage"].format(lines=spec.usage_lines(ctx.role)))
            ctx.outcome = "usage"
        # Every command by an officer, staff or manager is on record, and so is a resident's try
        # at one that is not theirs; a resident's own commands (/帮助) are not.
        if "resident" not in roles or ctx.role != "resident":
            self._audit(ctx, spec.name if sub is None else f"{spec.name} {sub.name}")

    async def _run_subcommand(self, ctx: Context, spec: CommandSpec, sub: SubcommandSpec) -> None:
        arguments: dict[str, str] = {}
        if sub.pattern is not None:
            match = sub.pattern.fullmatch(ctx.rest)
            if match is None:
                await ctx.reply(TEXTS["usage"].format(lines=spec.usage_line(sub)))
                ctx.outcome = "usage"
                return
            arguments = {k: v for k, v in match.groupdict().items() if v is not None}
        elif ctx.rest:
            await ctx.reply(TEXTS["usage"].format(lines=spec.usage_line(sub)))
            ctx.outcome = "usage"
            return
        await sub.handler(ctx, **arguments)

    def _audit(self, ctx: Context, command: str) -> None:
        ctx.session.add(AuditEntry(
            bot=self.app.name, at=ctx.now, actor_id=ctx.sender.id, actor_role=ctx.role,
            room_id=ctx.message.room_id, command=command[:64], args=mask_text(ctx.rest)[:1000],
            outcome=ctx.outcome[:200],
        ))

    async def _run_urgent(self, ctx: Context, found) -> None:
        for spec in self.app.registry.intent_handlers(found.intent):
            if spec.preempt and await spec.handler(ctx, found):
                return

    async def _run_intents(self, ctx: Context, found) -> None:
        for phrase in self.app.registry.phrases:
            if phrase.where != "any" and (phrase.where == "private") != ctx.is_private:
                continue
            match = phrase.pattern.search(ctx.text)
            if match and await phrase.handler(ctx, match):
                return
        if found is None:
            found = self.app.classify(ctx.text)
        for spec in self.app.registry.intent_handlers(found.intent):
            if await spec.handler(ctx, found):
                return
        if ctx.message.mentions_bot:
            for handler in self.app.registry.events.get("unhandled_mention", []):
                await handler(ctx)

    async def _apologise(self, msg: IncomingMessage) -> None:
        try:
            async with self.app.sessions.begin() as session:
                await self._first_time(session, msg)
                ctx = Context(self.app, session, msg, self.app.directory.person(msg.sender_id), None, "")
                await ctx.reply(TEXTS["error"])
        except Exception:
            log.exception("could not even apologise", extra={"message_id": msg.id})

    async def _group_of(self, msg: IncomingMessage) -> Group | None:
        if msg.room_id is None:
            return None
        group = self.app.directory.group(msg.room_id)
        if group is None:
            # A room the account's list did not show until it spoke: keep it, uncategorised.
            async with self.app.sessions.begin() as session:
                group = await self.app.directory.save_group(
                    session, Group(msg.room_id, msg.room_name or msg.room_id, None), self.app.clock.now())
            log.info("new group registered", extra={"room_id": msg.room_id})
        return group

    @asynccontextmanager
    async def _chat_lock(self, key: str):
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._lock_users[key] = self._lock_users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._lock_users[key] -= 1
            if not self._lock_users[key]:
                del self._lock_users[key]
                del self._locks[key]


