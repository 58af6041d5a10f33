"""What a handler gets: the message, who sent it, where, one open transaction, and ways to answer.

Everything a handler writes (its own rows, outgoing messages, counters, dialog state) goes into
`ctx.session`; the router commits once when the handler returns, then wakes the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory import Group, Person
from bot.messages import IncomingMessage, Outgoing
from bot.outbox import EMERGENCY, NOTICE, REPLY
from bot.plugin import CommandSpec
from storage import counters

if TYPE_CHECKING:
    from bot.app import App


@dataclass
class Context:
    app: App
    # The transaction, opened when a handler first asks for `session`: one that looks and
    # declines costs none. `_opener` opens it (the router's); without one `_session` is it.
    _session: AsyncSession | None
    message: IncomingMessage
    sender: Person
    group: Group | None
    text: str  # cleaned text (control characters removed, length capped)
    args: list[str] = field(default_factory=list)  # for commands: the words after the name
    rest: str = ""  # for commands: everything after the name (or the subcommand's verb), spacing kept
    command: CommandSpec | None = None  # the command being run
    command_word: str = ""  # its name or alias as typed (/公告 or /警务动态)
    outcome: str = "ok"  # what the audit log records for a command
    # The outbox `source` of reply()/reply_private(): a confidential flow sets its own so the
    # outbox can forget the recipient once the message is out (Outbox.forget_recipient_sources).
    reply_source: str = "reply"
    # Counts wait here and go in with one statement when the handler is done (flush_counts).
    _counts: dict[counters.CountKey, int] = field(default_factory=dict, repr=False)
    _opener: Callable[[], AsyncSession] | None = field(default=None, repr=False)

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            if self._opener is None:
                raise RuntimeError("this context has no database session")
            self._session = self._opener()
        return self._session

    @property
    def now(self) -> datetime:
        return self.app.clock.now()

    @property
    def is_private(self) -> bool:
        return self.message.room_id is None

    @property
    def role(self) -> str:
        return self.sender.role

    async def reply(self, text: str, *, priority: int = REPLY, mention: bool = True) -> None:
        """Answer where the message came from; in a group, @ the asker."""
        if self.message.room_id:
            mentions = (self.sender.id,) if mention else ()
            out = Outgoing(self.message.room_id, None, text, mention_ids=mentions)
        else:
            out = Outgoing(None, self.sender.id, text)
        await self.app.outbox.enqueue(self.session, out, priority=priority, source=self.reply_source)

    async def reply_usage(self, template: str = "用法：{lines}") -> None:
        """Answer a command written wrong with every form of it the sender may use (from its specs)."""
        if self.command is not None:
            await self.reply(template.format(lines=self.command.usage_lines(self.role)))
        self.outcome = "usage"

    async def send(self, out: Outgoing, **kwargs: Any) -> int:
        """Any message (a file, a post to another group ...) in this transaction; returns rows added."""
        return await self.app.outbox.enqueue(self.session, out, **kwargs)

    async def reply_private(self, text: str) -> None:
        await self.send_to_contact(self.sender.id, text, source=self.reply_source)

    async def send_to_contact(self, contact_id: str, text: str, **kwargs: Any) -> int:
        return await self.app.outbox.enqueue(self.session, Outgoing(None, contact_id, text), **kwargs)

    async def send_to_group(self, room_id: str, text: str, **kwargs: Any) -> int:
        return await self.app.outbox.enqueue(self.session, Outgoing(room_id, None, text), **kwargs)

    async def notify_roles(self, roles: frozenset[str] | set[str], text: str, *, urgent: bool = False) -> int:
        """Tell every officer (or other role) privately; returns how many were told."""
        people = self.app.directory.with_roles(roles)
        for person in people:
            await self.send_to_contact(person.id, text, priority=EMERGENCY if urgent else NOTICE,
                                       source="notice")
        return len(people)

    async def notify_work_groups(self, text: str, *, urgent: bool = False) -> int:
        groups = self.app.directory.groups_in("work")
        for g in groups:
            await self.send_to_group(g.id, text, priority=EMERGENCY if urgent else NOTICE, source="notice")
        return len(groups)

    async def count(self, metric: str, key: str = "", n: int = 1) -> None:
        """Count an event for the statistics in this transaction (right across restarts)."""
        category = (self.group.category or "") if self.group else ""
        k = counters.CountKey(self.now.date(), counters.WHOLE_DAY, self.message.room_id or "", category, metric, key)
        self._counts[k] = self._counts.get(k, 0) + n

    async def flush_counts(self) -> None:
        """Write the counts of this message (the router calls it before it commits)."""
        if self._counts:
            counts, self._counts = self._counts, {}
            await counters.bump_many(self.session, self.app.name, counts)

    async def start_dialog(self, name: str, state: str, data: dict[str, Any] | None = None) -> None:
        await self.app.dialogs.start(self, name, state, data or {})
