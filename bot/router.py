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
from sqlalchemy.exc import IntegrityError

from bot.commands import parse_command, strip_mentions
from bot.context import Context
from bot.dialogs import is_exit
from bot.directory import Group
from bot.edge import admit, oversized_number
from bot.masking import mask_text
from bot.messages import (
    FriendRequest, IncomingMessage, MemberJoined, MemberLeft, MessageKind, RoomInvitation, RoomRenamed,
)
from bot.plugin import CommandSpec, SubcommandSpec
from storage.db import connection_lost, has_work, retrying
from storage.later import insert_later
from storage.models import AuditEntry, ProcessedMessage
from storage.upsert import insert_ignoring, plain_insert

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

IN_DIALOG_PREEMPT_MIN = 0.9  # see _pick_route
MAX_TEXT = 4000  # longer messages are counted, but only this much is read
REDELIVERY_WINDOW = timedelta(seconds=10)
# Intents that, said inside a dialog where the step did not understand them, are that instead.
DIALOG_ASIDES = frozenset({"consultation", "suggestion", "tip", "dispute", "scam", "greeting"})
ASIDE_CONFIDENCE = 0.6  # below this, a word the step did not understand is a miss, not an aside

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

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ud800-\udfff]")


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
        event = admit(event)  # ids no database can keep drop the event; names and texts are cleaned
        if event is None:
            return
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
        renamed = replace(group, name=event.name)
        await self._write(lambda session: self.app.directory.save_group(session, renamed, event.at), "group rename")
        log.info("group renamed", extra={"room_id": event.room_id})

    async def _run_event(self, name: str, event, room_id: str | None) -> None:
        handlers = self.app.registry.events.get(name, [])
        if not handlers:
            return

        async def run(session) -> None:
            for handler in handlers:
                await handler(self.app, session, event)

        # Once more on a new connection if the server had closed the pooled one: a newcomer's
        # welcome or a friend request is not delivered twice by the gateway. What the handlers
        # change in memory bears a second run (a name already waiting is not added again; a
        # friend request's slot may move one interval later).
        await self._write(run, f"{name} event")
        self.app.outbox.wake()

    # ---- messages --------------------------------------------------------------------------

    async def on_message(self, msg: IncomingMessage) -> None:
        if msg.sender_id == self.app.transport.bot_id:
            return
        async with self._chat_lock(msg.chat_key):
            if not self.recent.add(msg.id) or self._is_redelivery(msg):
                return
            group = await self._group_of(msg)
            if msg.kind == MessageKind.RECALL:
                self.app.tally.message(msg, group)
                return
            # What handlers read is what the person wrote, without "@警民群助手 " in front.
            text = strip_mentions(clean_text(msg.text)) if msg.kind == MessageKind.TEXT else ""
            route = self._pick_route(msg, text)
            # A command is an instruction to the bot, not something said to the group (a
            # resident's /预约 included, though it is read as the words 预约).
            self.app.tally.message(msg, group, command=route is not None and route[0] in ("command", "words"))
            if route is not None and route[0] == "words":  # a resident's /预约: the words 预约
                text, route = route[1], ("phrase", None)
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
        in_dialog = self.app.dialogs.maybe_active(msg)
        if in_dialog and msg.kind == MessageKind.TEXT and is_exit(text):
            return ("dialog", None)  # "不办了！" is a way out, whatever a model makes of the "！"
        if self._preempting and msg.kind == MessageKind.TEXT and text and parse_command(text) is None:
            found = self.app.classify(text)
            # A cry for help is never swallowed by a dialog or phrase. Inside a dialog the bar is
            # higher: a tip's "what happened" is told in the words of a crime ("老有人撬电动车"),
            # not with a call for help ("救命 厨房着火了").
            if found.intent in self._preempting and (not in_dialog or found.confidence >= IN_DIALOG_PREEMPT_MIN
                                                     or found.urgent):
                return ("urgent", found)
        if in_dialog:
            return ("dialog", None)
        if msg.kind != MessageKind.TEXT or not text:
            return ("intent", None) if msg.is_private and msg.kind != MessageKind.RECALL else None
        return self._route_of(msg, text, found)

    def _route_of(self, msg: IncomingMessage, text: str, found=None, *, in_dialog: bool = False,
                  strong: bool = False):
        """The route of a text with no dialog in the way. Inside a dialog (`in_dialog`), only what
        is clearly not an answer: `strong`, only what never can be (commands, 我的预约 ...)."""
        parsed = parse_command(text)
        if parsed is not None:
            spec = self._commands.get(parsed.name)
            if spec is None and parsed.prefix == "#" and not msg.is_private:
                return None  # "#话题" in a group is chatter, not a command
            words = self._resident_words(msg, parsed, spec)
            return ("words", words) if words else ("command", (parsed, spec))
        for phrase in self.app.registry.phrases:
            if phrase.where != "any" and (phrase.where == "private") != msg.is_private:
                continue
            if phrase.pattern.search(text) and not (strong and phrase.dialog_answer):
                return ("phrase", None)
        if strong:
            return None
        found = found or self.app.classify(text)
        if in_dialog:
            sure = found.intent in DIALOG_ASIDES and found.confidence >= ASIDE_CONFIDENCE
            return ("intent", found) if sure and self.app.registry.intent_handlers(found.intent, msg) else None
        if self.app.registry.intent_handlers(found.intent, msg) or msg.mentions_bot or msg.is_private:
            return ("intent", found)
        return None

    def _resident_words(self, msg: IncomingMessage, parsed, spec: CommandSpec | None) -> str | None:
        """/预约, /举报, /建议 …, /我的预约 from someone the command is not for: the same words without
        the slash, when a phrase knows them (建议 … is tried as 建议：…)."""
        person = self.app.directory.person(msg.sender_id, msg.sender_name)
        if spec is not None and (person.role in spec.roles or (parsed.args and spec.subcommand(parsed.args[0]))):
            return None  # theirs to run, or an officer's verb (/预约 完成 …): refused as before
        rest = parsed.rest.strip()
        for words in (f"{parsed.name}{rest}", f"{parsed.name} {rest}".strip(), f"{parsed.name}：{rest}"):
            for phrase in self.app.registry.phrases:
                if phrase.where != "any" and (phrase.where == "private") != msg.is_private:
                    continue
                if phrase.pattern.search(words):
                    return words
        return None

    async def _handle(self, msg: IncomingMessage, group: Group | None, text: str, route,
                      again: bool = True) -> None:
        """Run the message's route in one transaction. If the database connection turns out lost
        (the server closed it since its last use, see storage.db), the message is handled once
        more from the start: nothing of the first run was committed, or if its commit did reach
        the server, the second run finds the message id and stops."""
        kind, detail = route
        acted = False
        session = None
        ctx = None

        def open_session():
            nonlocal session
            session = self.app.sessions()
            return session

        try:
            if kind == "dialog" and self.app.dialogs.is_active(msg):
                await self.app.dialogs.mark_pending(msg)  # a crash from here on is told at restart
            ctx = Context(self.app, None, msg, self.app.directory.person(msg.sender_id, msg.sender_name),
                          group, text, _opener=open_session)
            handled, aside = False, False
            if kind == "dialog":
                outcome = await self.app.dialogs.handle(ctx, lambda strong: self._aside(msg, text, strong))
                handled = outcome is True
                if outcome is False and (text or msg.is_private):
                    kind, detail = self._pick_route_after_dialog(msg, text)
                elif outcome not in (True, False):  # something else: handled so, the dialog waits
                    kind, detail, aside = *outcome, True
                if kind == "words":
                    kind, detail, ctx.text = "phrase", None, detail
            if kind == "urgent":
                await self._run_urgent(ctx, detail)
            elif kind == "command":
                await self._run_command(ctx, *detail)
            elif kind in ("phrase", "intent") and not handled:
                await self._run_intents(ctx, detail)
            if aside:
                await self.app.dialogs.remind(ctx)
            # The message id goes in with what the handler wrote, so a redelivery (even after a
            # restart) is handled once. A handler that only looked ("not for me") never opened
            # a session: its id is noted with the chatter, and no transaction is paid.
            await ctx.flush_counts()
            acted = session is not None and has_work(session)
            if acted:
                await self._commit_first_time(session, msg)
        except _AlreadyHandled:
            await self._close(session)
            log.info("message handled before; this run rolled back", extra={"message_id": msg.id})
            self.app.outbox.wake()  # it may have been told of rows that are now gone: it looks again
            return
        except Exception as error:
            await self._close(session)  # first: the apology must not wait for this one's lock
            if again and connection_lost(error):
                log.warning("database connection lost; handling the message again", extra={"message_id": msg.id})
                return await self._handle(msg, group, text, route, again=False)
            log.exception("handler failed", extra={"message_id": msg.id, "route": kind})
            await self._apologise(msg, ctx.reply_source if ctx is not None else "reply")
            self.app.outbox.wake()
            return
        except BaseException:
            # Cancelled (the bot stopping, a timeout): the open transaction must give back its
            # connection (on SQLite the bot's only one) and its write lock, as a crash would.
            await self._close(session)
            raise
        await self._close(session)
        if acted:
            self.app.outbox.wake()
        else:
            self.app.tally.processed(msg)

    @staticmethod
    async def _close(session) -> None:
        if session is not None:
            await session.close()  # rolls back whatever was not committed

    def _pick_route_after_dialog(self, msg: IncomingMessage, text: str):
        """The dialog had ended (timed out): route the message as if there had been none."""
        route = self._route_of(msg, text) if text else ("intent", None)
        return route if route else ("none", None)

    def _aside(self, msg: IncomingMessage, text: str, strong: bool):
        """What a message inside a dialog is instead of an answer (None: an answer, or a miss)."""
        if msg.kind != MessageKind.TEXT or not text:
            return None
        return self._route_of(msg, text, in_dialog=True, strong=strong)

    async def _commit_first_time(self, session, msg: IncomingMessage) -> None:
        """Commit with the message's id, or raise _AlreadyHandled: another run has committed it
        (a redelivery). The id is a plain insert among the transaction's others (storage.later:
        on PostgreSQL one statement for all of them), so a second one fails as a whole."""
        try:
            await insert_later(session, plain_insert(ProcessedMessage.__table__),
                               {"bot": self.app.name, "id": msg.id, "received_at": self.app.clock.now()}, routine=True)
            await session.commit()
        except IntegrityError as error:
            if ProcessedMessage.__tablename__ not in str(error.orig):
                raise
            raise _AlreadyHandled from None

    async def _first_time(self, session, msg: IncomingMessage) -> bool:
        # Core on the session's connection: no ORM identity is needed, and the ORM's execute
        # costs several times the insert itself.
        conn = await session.connection()
        stmt = insert_ignoring(conn.dialect.name, ProcessedMessage.__table__)
        result = await conn.execute(stmt, {"bot": self.app.name, "id": msg.id, "received_at": self.app.clock.now()})
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
            if oversized_number(arguments):  # "/线索 查看 99999999999999999999": no such row, ever
                await ctx.reply(TEXTS["usage"].format(lines=spec.usage_line(sub)))
                ctx.outcome = "usage"
                return
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
        if not ctx.text:  # a photo or file sent privately outside any dialog
            for handler in self.app.registry.events.get("unhandled_private", []) if ctx.is_private else []:
                await handler(ctx)
            return
        for phrase in self.app.registry.phrases:
            if phrase.where != "any" and (phrase.where == "private") != ctx.is_private:
                continue
            match = phrase.pattern.search(ctx.text)
            if match and await phrase.handler(ctx, match):
                return
        if found is None:
            found = self.app.classify(ctx.text)
        for spec in self.app.registry.intent_handlers(found.intent, ctx.message):
            if await spec.handler(ctx, found):
                return
        if ctx.message.mentions_bot:
            for handler in self.app.registry.events.get("unhandled_mention", []):
                await handler(ctx)
        elif ctx.is_private:  # a private chat is never left silent
            for handler in self.app.registry.events.get("unhandled_private", []):
                await handler(ctx)

    async def _apologise(self, msg: IncomingMessage, source: str = "reply") -> None:
        """Sorry, in the source of the flow that failed: an apology to a confidential reporter
        forgets its recipient once sent, as the flow's own replies do."""
        try:
            async with self.app.sessions.begin() as session:
                await self._first_time(session, msg)
                ctx = Context(self.app, session, msg, self.app.directory.person(msg.sender_id), None, "")
                ctx.reply_source = source if source != "reply" else await self._dialog_source(session, msg)
                await ctx.reply(TEXTS["error"])
        except Exception:
            log.exception("could not even apologise", extra={"message_id": msg.id})

    async def _dialog_source(self, session, msg: IncomingMessage) -> str:
        """The reply source of the dialog the sender is in (a failure before the dialog ran)."""
        if not self.app.dialogs.maybe_active(msg):
            return "reply"
        row = await self.app.dialogs.current(session, msg)
        spec = self.app.dialogs.specs.get(row.dialog) if row is not None else None
        return (spec.reply_source if spec is not None else None) or "reply"

    async def _group_of(self, msg: IncomingMessage) -> Group | None:
        if msg.room_id is None:
            return None
        group = self.app.directory.group(msg.room_id)
        if group is None:
            # A room the account's list did not show until it spoke: keep it, uncategorised.
            group = await self._write(lambda session: self.app.directory.save_group(
                session, Group(msg.room_id, msg.room_name or msg.room_id, None), self.app.clock.now()), "new group")
            log.info("new group registered", extra={"room_id": msg.room_id})
        return group

    async def _write(self, work, what: str):
        """A short transaction of the router's own (a new group, a rename): once more, at once, on
        a new connection, if the server had closed the pooled one (as _handle; the directory's
        memory changes only after the commit)."""
        return await retrying(self.app.sessions, work, what, delays=(0.0,), retry_on=connection_lost)

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


