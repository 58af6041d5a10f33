"""All plugins' declarations merged, checked for clashes once at start."""

from __future__ import annotations

from bot.plugin import CommandSpec, DialogSpec, Handler, IntentSpec, PhraseSpec, Plugin


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
        self._intents: dict[str, list[IntentSpec]] = {}
        names: dict[str, str] = {}
        for plugin in plugins:
            for spec in plugin.commands:
                for name in (spec.name, *spec.aliases):
                    if name in names:
                        raise RegistryError(f"command '{name}' declared by {names[name]} and {plugin.name}")
                    names[name] = plugin.name
            self.commands += plugin.commands
            self.phrases += plugin.phrases
            for spec in plugin.intents:
                self._intents.setdefault(spec.intent, []).append(spec)
            for name, dialog in plugin.dialogs.items():
                if name in self.dialogs:
                    raise RegistryError(f"dialog '{name}' declared twice")
                self.dialogs[name] = dialog
            for event, handlers in plugin.events.items():
                self.events.setdefault(event, []).extend(handlers)
            for kind, handler in plugin.jobs.items():
                if kind in self.jobs:
                    raise RegistryError(f"job kind '{kind}' declared twice")
                self.jobs[kind] = handler
            self.startup += plugin.startup
            self.menu += plugin.menu
        self.phrases.sort(key=lambda p: -p.priority)
        for specs in self._intents.values():
            specs.sort(key=lambda s: -s.priority)

    @property
    def preempting(self) -> frozenset[str]:
        """Intents with a handler that must see every such message (see Plugin.intent)."""
        return frozenset(i for i, specs in self._intents.items() if any(s.preempt for s in specs))

    def intent_handlers(self, intent: str) -> list[IntentSpec]:
        return self._intents.get(intent, [])

    def command(self, name: str) -> CommandSpec | None:
        return next((c for c in self.commands if name in (c.name, *c.aliases)), None)
