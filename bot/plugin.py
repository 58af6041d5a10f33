"""Declarative registration: a feature module says what it matches next to what it does.

    plugin = Plugin("guide", config=list[GuideEntry], config_default=[])

    @plugin.command("咨询", roles=STAFF, summary="查看待回复的咨询")
    async def list_open(ctx: Context) -> None: ...

    @plugin.subcommand("咨询", "回复", pattern=r"(?P<n>\\d+)\\s+(?P<text>.+)", usage="N 文字",
                       summary="回复一条咨询")
    async def answer_one(ctx: Context, n: str, text: str) -> None: ...

    @plugin.intent("consultation")
    async def answer(ctx: Context, found: Classification) -> bool: ...  # True: handled

    booking = plugin.dialog("booking", title="预约", start_word="预约")

    @booking.state("service", prompt=ask_service, label="正在选办理事项", help=service_help)
    async def got_service(ctx, data, text): ...  # next state | END | Reask("one short hint")

Everything a plugin offers the others is declared here too, never put in a global at import
time: its config section (a pydantic model), the services it provides (`provides`), the rows it
adds to a register (`register_rows`), the lines it adds to the weekly report (`report_line`),
its confidential outbox sources, its `jingmin` subcommands (`cli`) and its web pages (`web_app`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from pydantic import BaseModel

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
class SubcommandSpec:
    """`/预约 完成 AB12CD`: a verb after the command, its own roles, arguments, usage and audit.

    `pattern` is matched in full against what follows the verb; its named groups are passed to
    the handler as keyword arguments. Words that do not fit get the usage line, not the handler."""

    name: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    roles: frozenset[str] | None = None  # None: the command's roles
    usage: str = ""
    summary: str = ""

    def words(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass
class CommandSpec:
    name: str
    handler: Handler | None  # None: the command is only its subcommands
    aliases: tuple[str, ...] = ()
    roles: frozenset[str] = STAFF
    summary: str = ""
    usage: str = ""
    where: str = "any"  # any | group | private
    subcommands: list[SubcommandSpec] = field(default_factory=list)

    def subcommand(self, word: str) -> SubcommandSpec | None:
        return next((s for s in self.subcommands if word in s.words()), None)

    def roles_of(self, sub: SubcommandSpec | None) -> frozenset[str]:
        return sub.roles if sub is not None and sub.roles is not None else self.roles

    def usage_line(self, sub: SubcommandSpec | None = None) -> str:
        """`/预约 完成 预约码`: how to write the command or one subcommand (/帮助, refusals)."""
        words = [f"/{self.name}"] + ([sub.name, sub.usage] if sub else [self.usage])
        return " ".join(w for w in words if w)

    def usage_lines(self, role: str) -> str:
        """Every form of the command `role` may use, one a line."""
        lines = [self.usage_line()] if self.handler is not None else []
        lines += [self.usage_line(sub) for sub in self.subcommands if role in self.roles_of(sub)]
        return "\n".join(lines)


@dataclass(frozen=True)
class PhraseSpec:
    """A plain-text trigger residents type without a slash (预约, 查询 123...).

    Inside someone's dialog a phrase is handled as itself and the dialog waits (我的预约, 建议：…),
    unless `dialog_answer`: then it may be an answer ("举报楼下…" as a tip's text), and is taken as
    a phrase only when the dialog's step did not understand it."""

    pattern: re.Pattern[str]
    handler: Handler
    where: str = "any"
    priority: int = 0
    dialog_answer: bool = False


@dataclass(frozen=True)
class IntentSpec:
    intent: str
    handler: Handler
    priority: int = 0
    preempt: bool = False  # runs even inside a dialog or on a phrase match (emergencies)
    said_to_bot: bool = False  # only for what is said to the bot: in private, or @ it in a group

    def applies(self, msg) -> bool:
        return not self.said_to_bot or msg.is_private or msg.mentions_bot


@dataclass(frozen=True)
class Reask:
    """What a dialog step returns for an answer it cannot use: `hint` is the one short line said
    back. `understood`: the answer was read but cannot be taken (a full day): no miss is counted,
    and the silence timer starts again as after any understood answer."""

    hint: str
    understood: bool = False


@dataclass
class DialogStateSpec:
    name: str
    prompt: Handler  # async (ctx, data) -> None: ask the question
    handle: Handler  # async (ctx, data, text) -> next state | END | Reask | None (it replied itself)
    accepts_attachments: bool = False
    label: str = ""  # where the resident stands, for reminders: "正在选日子"
    help: Handler | None = None  # async (ctx, data) -> str: exactly what to type, with an example
    free_text: bool = False  # any text is an answer here (what happened, a name)
    keeps: frozenset[str] = frozenset()  # exit words this step answers itself (保密? "不用了")
    resume: str = ""  # after a restart lost an answer here: what to send ("回复“确认”继续")


@dataclass
class DialogSpec:
    name: str
    states: dict[str, DialogStateSpec] = field(default_factory=dict)
    title: str = "事情"  # what residents call it: 预约, 线索
    start_word: str = ""  # what starts it again: 预约
    on_cancel: Handler | None = None  # async (ctx, data) -> str | None: the goodbye (None: the core's)
    on_discard: Handler | None = None  # async (app, session, data): drop what the dialog held
    reply_source: str | None = None  # outbox source of every reply in this dialog (see Context)
    # A dialog that times out at one of `park_states` is kept `park_for` and offered back with
    # `park_text` (回复“继续”接着填); then purged.
    park_states: frozenset[str] = frozenset()
    park_for: Any = None
    park_text: str = ""

    def state(self, name: str, prompt: Handler, accepts_attachments: bool = False, *, label: str = "",
              help: Handler | None = None, free_text: bool = False, keeps: frozenset[str] | set[str] = frozenset(),
              resume: str = ""):
        def register(handle: Handler) -> Handler:
            self.states[name] = DialogStateSpec(name, prompt, handle, accepts_attachments, label, help, free_text,
                                                frozenset(keeps), resume)
            return handle

        return register


@dataclass(frozen=True)
class ServiceSpec:
    """An object one plugin builds at start and others use: `app.service(GuideIndex)`."""

    type: type
    factory: Handler  # async (app) -> instance


@dataclass(frozen=True)
class RegisterRowsSpec:
    """Rows a plugin adds to a register: async (session, config, start, end) -> list[RegisterRow]."""

    register: str
    provider: Handler


@dataclass(frozen=True)
class ReportLineSpec:
    """A line for the weekly report: async (app, session, period) -> list[str] (numbers, no names)."""

    name: str
    provider: Handler


@dataclass(frozen=True)
class WebAppSpec:
    """Pages a plugin serves on the bot's web host under `prefix`: factory(app) -> aiohttp Application."""

    prefix: str
    factory: Callable[[Any], Any]


Validator = Callable[[Any], list[str]]  # the whole config -> problems, one line each with its key path
CliExtension = Callable[[Any], None]  # argparse's subparsers -> adds `jingmin <name>` commands


class Plugin:
    def __init__(self, name: str, *, config: type[BaseModel] | None = None, config_key: str | None = None,
                 config_default: Any = None, order: int = 100) -> None:
        """`config`: this plugin's section of config.yaml, under `config_key` (default: the name).
        A list section passes `config=list[Entry]` with `config_default=[]`.
        `order`: plugins are merged by it (then by name): the menu and /帮助 list them so."""
        self.name = name
        self.order = order
        self.config_sections: dict[str, tuple[Any, Any]] = {}
        if config is not None:
            self.config_section(config_key or name, config, config_default)
        self.commands: list[CommandSpec] = []
        self.phrases: list[PhraseSpec] = []
        self.intents: list[IntentSpec] = []
        self.dialogs: dict[str, DialogSpec] = {}
        self.events: dict[str, list[Handler]] = {}
        self.jobs: dict[str, Handler] = {}
        self.startup: list[Handler] = []
        self.menu: list[tuple[str, frozenset[str]]] = []
        self.validators: list[Validator] = []
        self.services: list[ServiceSpec] = []
        self.register_providers: list[RegisterRowsSpec] = []
        self.report_lines: list[ReportLineSpec] = []
        self.confidential_sources: set[str] = set()
        self.cli_extensions: list[CliExtension] = []
        self.web_apps: list[WebAppSpec] = []
        self.classifier: Callable[[str], Any] | None = None

    # ---- configuration ---------------------------------------------------------------------

    def config_section(self, key: str, model: Any, default: Any = None) -> None:
        """Another top-level key this plugin owns (a model, or list[Model] with default [])."""
        self.config_sections[key] = (model, model() if default is None and isinstance(model, type)
                                     and issubclass(model, BaseModel) else default)

    def validator(self, fn: Validator) -> Validator:
        """A cross-check over the whole config (a guide entry naming a service that exists ...)."""
        self.validators.append(fn)
        return fn

    # ---- what residents and officers say -------------------------------------------------------

    def menu_item(self, text: str, roles: frozenset[str] = EVERYONE) -> None:
        """A line of the menu residents see (/帮助, welcome): what to say to use this feature."""
        self.menu.append((text, frozenset(roles)))

    def command(self, name: str, *, aliases: tuple[str, ...] = (), roles: frozenset[str] = STAFF,
                summary: str = "", usage: str = "", where: str = "any"):
        """The command itself: its handler runs when no subcommand's verb comes first."""
        spec = self._command_spec(name, aliases, roles, summary, usage, where)

        def register(fn: Handler) -> Handler:
            spec.handler = fn
            return fn

        return register

    def command_group(self, name: str, *, aliases: tuple[str, ...] = (), roles: frozenset[str] = STAFF,
                      summary: str = "", usage: str = "", where: str = "any") -> CommandSpec:
        """A command made only of subcommands (declared with `subcommand`)."""
        return self._command_spec(name, aliases, roles, summary, usage, where)

    def subcommand(self, command: str, name: str, *, aliases: tuple[str, ...] = (), pattern: str | None = None,
                   roles: frozenset[str] | None = None, usage: str = "", summary: str = ""):
        """`/command name …`; `pattern` (full match of the rest) names the handler's arguments."""
        spec = next((c for c in self.commands if c.name == command), None)
        if spec is None:
            raise ValueError(f"{self.name}: subcommand '{name}' of undeclared command '{command}'")

        def register(fn: Handler) -> Handler:
            compiled = re.compile(pattern, re.S) if pattern is not None else None
            spec.subcommands.append(SubcommandSpec(name, fn, tuple(aliases), compiled,
                                                   frozenset(roles) if roles is not None else None, usage, summary))
            return fn

        return register

    def _command_spec(self, name, aliases, roles, summary, usage, where) -> CommandSpec:
        if any(c.name == name for c in self.commands):
            raise ValueError(f"{self.name}: command '{name}' declared twice")
        spec = CommandSpec(name, None, tuple(aliases), frozenset(roles), summary, usage, where)
        self.commands.append(spec)
        return spec

    def phrase(self, pattern: str, *, where: str = "any", priority: int = 0, dialog_answer: bool = False):
        def register(fn: Handler) -> Handler:
            self.phrases.append(PhraseSpec(re.compile(pattern), fn, where, priority, dialog_answer))
            return fn

        return register

    def intent(self, intent: str, *, priority: int = 0, preempt: bool = False, said_to_bot: bool = False):
        """preempt=True: every message classified `intent` reaches this handler first, even from
        someone in the middle of a dialog or when a phrase matches (the dialog is left as it was).
        said_to_bot=True: only messages said to the bot (in private, or @ it in a group); the rest
        of a group's talk of that intent is not even routed to it."""

        def register(fn: Handler) -> Handler:
            self.intents.append(IntentSpec(intent, fn, priority, preempt, said_to_bot))
            return fn

        return register

    def dialog(self, name: str, *, title: str = "事情", start_word: str = "") -> DialogSpec:
        spec = DialogSpec(name, title=title, start_word=start_word)
        self.dialogs[name] = spec
        return spec

    def classifies(self, fn: Callable[[str], Any]) -> Callable[[str], Any]:
        """The function that reads a resident's text: text -> object with .intent and .confidence."""
        self.classifier = fn
        return fn

    # ---- events, jobs, life cycle ------------------------------------------------------------

    def on(self, event: str):
        """joined | left | friend | invitation: async (app, session, event);
        unhandled_mention: async (ctx), for an @-mention nothing else understood;
        unhandled_private: async (ctx), for a private message nothing else understood (never silence);
        connected: async (app), each time the WeChat gateway is (re)connected."""

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
        """async (app) -> None, after the database, the services and the scheduler are up."""
        self.startup.append(fn)
        return fn

    # ---- what this plugin offers the others -------------------------------------------------

    def provides(self, service_type: type):
        """`@plugin.provides(GuideIndex)` on `async def build(app) -> GuideIndex`."""

        def register(fn: Handler) -> Handler:
            self.services.append(ServiceSpec(service_type, fn))
            return fn

        return register

    def register_rows(self, register: str):
        """Rows for a register (see storage.registers): async (session, config, start, end) -> rows."""

        def register_(fn: Handler) -> Handler:
            self.register_providers.append(RegisterRowsSpec(register, fn))
            return fn

        return register_

    def report_line(self, name: str):
        """Lines for the weekly report and /统计: async (app, session, period) -> list[str]."""

        def register(fn: Handler) -> Handler:
            self.report_lines.append(ReportLineSpec(name, fn))
            return fn

        return register

    def confidential_source(self, source: str) -> None:
        """Outbox rows of this source lose their recipient and text once sent (tips)."""
        self.confidential_sources.add(source)

    def cli(self, fn: CliExtension) -> CliExtension:
        """Adds `jingmin` subcommands: fn(subparsers) calls subparsers.add_parser(...)."""
        self.cli_extensions.append(fn)
        return fn

    def web_app(self, prefix: str):
        """Pages under `prefix` (`/console/`) on the bot's web server: fn(app) -> aiohttp.web.Application."""

        def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
            self.web_apps.append(WebAppSpec(prefix, fn))
            return fn

        return register
