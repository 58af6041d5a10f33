"""All plugins' declarations merged, checked for clashes once at start."""

from __future__ import annotations

from typing import Any, Callable

from bot.plugin import (
    CliExtension, CommandSpec, DialogSpec, Handler, IntentSpec, PhraseSpec, Plugin, RegisterRowsSpec,
    ReportLineSpec, ServiceSpec, Validator, WebAppSpec,
)
from storage.registers import REGISTERS


class RegistryError(Exception):
    pass


class Registry:
    def __init__(self, plugins: list[Plugin]) -> None:
        self.plugins = plugins
        self.commands: list[CommandSpec] = []
        self.phrases: list[PhraseSpec] = []
        self.dialogs: dict[str, DialogSpec] = {}
        self.events: dict[str, list[Handler]] = {}
        self.jobs: dict[str, Handler] = {}
        self.startup: list[Handler] = []
        self.menu: list[tuple[str, frozenset[str]]] = []
        self.config_sections: dict[str, tuple[Any, Any]] = {}
        self.validators: list[Validator] = []
        self.services: dict[type, ServiceSpec] = {}
        self.register_providers: list[RegisterRowsSpec] = []
        self.report_lines: list[ReportLineSpec] = []
        self.confidential_sources: set[str] = set()
        self.cli_extensions: list[CliExtension] = []
        self.web_apps: list[WebAppSpec] = []
        self.classifier: Callable[[str], Any] | None = None
        self._intents: dict[str, list[IntentSpec]] = {}
        owners: dict[str, str] = {}
        for plugin in plugins:
            self._merge(plugin, owners)
        self.phrases.sort(key=lambda p: -p.priority)
        for specs in self._intents.values():
            specs.sort(key=lambda s: -s.priority)

    def _merge(self, plugin: Plugin, owners: dict[str, str]) -> None:
        def claim(what: str, name: str) -> None:
            key = f"{what} '{name}'"
            if key in owners:
                raise RegistryError(f"{key} declared by {owners[key]} and {plugin.name}")
            owners[key] = plugin.name

        claim("plugin", plugin.name)
        for spec in plugin.commands:
            for name in (spec.name, *spec.aliases):
                claim("command", name)
        for key in plugin.config_sections:
            claim("config section", key)
        for name in plugin.dialogs:
            claim("dialog", name)
        for kind in plugin.jobs:
            claim("job kind", kind)
        for service in plugin.services:
            claim("service", service.type.__name__)
            self.services[service.type] = service
        for rows in plugin.register_providers:
            if rows.register not in REGISTERS:
                raise RegistryError(f"{plugin.name}: rows for unknown register '{rows.register}' "
                                    f"({', '.join(REGISTERS)})")
        for line in plugin.report_lines:
            claim("report line", line.name)
        if plugin.classifier is not None:
            claim("classifier", "classifier")
            self.classifier = plugin.classifier
        self.commands += plugin.commands
        self.phrases += plugin.phrases
        for spec in plugin.intents:
            self._intents.setdefault(spec.intent, []).append(spec)
        self.dialogs.update(plugin.dialogs)
        for event, handlers in plugin.events.items():
            self.events.setdefault(event, []).extend(handlers)
        self.jobs.update(plugin.jobs)
        self.startup += plugin.startup
        self.menu += plugin.menu
        self.config_sections.update(plugin.config_sections)
        self.validators += plugin.validators
        self.register_providers += plugin.register_providers
        self.report_lines += plugin.report_lines
        self.confidential_sources |= plugin.confidential_sources
        self.cli_extensions += plugin.cli_extensions
        for spec in plugin.web_apps:
            claim("web prefix", spec.prefix)
        self.web_apps += plugin.web_apps

    @property
    def preempting(self) -> frozenset[str]:
        """Intents with a handler that must see every such message (see Plugin.intent)."""
        return frozenset(i for i, specs in self._intents.items() if any(s.preempt for s in specs))

    def intent_handlers(self, intent: str, msg=None) -> list[IntentSpec]:
        """The handlers of `intent`; with `msg`, those for that message (see Plugin.intent's said_to_bot)."""
        specs = self._intents.get(intent, [])
        return specs if msg is None else [s for s in specs if s.applies(msg)]

    def command(self, name: str) -> CommandSpec | None:
        return next((c for c in self.commands if name in (c.name, *c.aliases)), None)

    def rows_for(self, register: str) -> list[Handler]:
        return [p.provider for p in self.register_providers if p.register == register]
