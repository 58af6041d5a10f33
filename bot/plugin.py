"""Declarative registration: a feature module says what it matches next to what it does.

    plugin = Plugin("guide")

    @plugin.command("咨询", roles=STAFF, summary="查看待回复的咨询")
    async def list_open(ctx: Context) -> None: ...

    @plugin.intent("consultation")
    async def answer(ctx: Context, found: Classification) -> bool: ...  # True: handled

    booking = plugin.dialog("booking")

    @booking.state("service", prompt=ask_service)
    async def got_service(ctx, data, text) -> str | None: ...  # next state, None re-asks, END ends
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable

if TYPE_CHECKING:
    from bot.context import Context

OFFICER = frozenset({"officer"})
STAFF = frozenset({"officer", "staff"})
MANAGERS = frozenset({"officer", "staff", "property"})
LEADS = frozenset({"officer", "staff", "property", "building_lead"})
EVERYONE = frozenset({"officer", "staff", "property", "building_lead", "resident"})

END = "__end__"

Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    roles: frozenset[str] = STAFF
    summary: str = ""
    usage: str = ""
    where: str = "any"  # any | group | private

    @property
    def audited(self) -> bool:
        # Officer and staff actions are audit-logged; commands open to residents are not.
        return "resident" not in self.roles


@dataclass(frozen=True)
class PhraseSpec:
    """A plain-text trigger residents type without a slash (预约, 查询 123...)."""

    pattern: re.Pattern[str]
    handler: Handler
    where: str = "any"
    priority: int = 0


@dataclass(frozen=True)
class IntentSpec:
    intent: str
    handler: Handler
    priority: int = 0
    preempt: bool = False  # runs even inside a dialog or on a phrase match (emergencies)


@dataclass
class DialogStateSpec:
    name: str
    prompt: Handler  # async (ctx, data) -> None: ask the question
    handle: Handler  # async (ctx, data, text) -> next state | None (re-ask) | END
    accepts_attachments: bool = False


@dataclass
class DialogSpec:
    name: str
    states: dict[str, DialogStateSpec] = field(default_factory=dict)
    on_cancel: Handler | None = None
    on_timeout: Handler | None = None
    reply_source: str | None = None  # outbox source of every reply in this dialog (see Context)

    def state(self, name: str, prompt: Handler, accepts_attachments: bool = False):
        def register(handle: Handler) -> Handler:
            self.states[name] = DialogStateSpec(name, prompt, handle, accepts_attachments)
            return handle

        return register


class Plugin:
    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: list[CommandSpec] = []
        self.phrases: list[PhraseSpec] = []
        self.intents: list[IntentSpec] = []
        self.dialogs: dict[str, DialogSpec] = {}
        self.events: dict[str, list[Handler]] = {}
        self.jobs: dict[str, Handler] = {}
        self.startup: list[Handler] = []
        self.menu: list[tuple[str, frozenset[str]]] = []

    def menu_item(self, text: str, roles: frozenset[str] = EVERYONE) -> None:
        """A line of the menu residents see (/帮助, welcome): what to say to use this feature."""
        self.menu.append((text, frozenset(roles)))

    def command(self, name: str, *, aliases: tuple[str, ...] = (), roles: frozenset[str] = STAFF,
                summary: str = "", usage: str = "", where: str = "any"):
        def register(fn: Handler) -> Handler:
            self.commands.append(CommandSpec(name, fn, tuple(aliases), frozenset(roles), summary, usage, where))
            return fn

        return register

    def phrase(self, pattern: str, *, where: str = "any", priority: int = 0):
        def register(fn: Handler) -> Handler:
            self.phrases.append(PhraseSpec(re.compile(pattern), fn, where, priority))
            return fn

        return register

    def intent(self, intent: str, *, priority: int = 0, preempt: bool = False):
        """preempt=True: every message classified `intent` reaches this handler first, even from
        someone in the middle of a dialog or when a phrase matches (the dialog is left as it was)."""

        def register(fn: Handler) -> Handler:
            self.intents.append(IntentSpec(intent, fn, priority, preempt))
            return fn

        return register

    def dialog(self, name: str) -> DialogSpec:
        spec = DialogSpec(name)
        self.dialogs[name] = spec
        return spec

    def on(self, event: str):
        """joined | left | friend | invitation: async (app, session, event);
        unhandled_mention: async (ctx), for an @-mention nothing else understood."""

        def register(fn: Handler) -> Handler:
            self.events.setdefault(event, []).append(fn)
            return fn

        return register

    def job(self, kind: str):
        """A scheduled job kind: async (app, payload: dict, due: datetime) -> None."""

        def register(fn: Handler) -> Handler:
            self.jobs[kind] = fn
            return fn

        return register

    def on_start(self, fn: Handler) -> Handler:
        """async (app) -> None, after the database and scheduler are up."""
        self.startup.append(fn)
        return fn
