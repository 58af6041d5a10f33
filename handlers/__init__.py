"""Feature plugins, one module per feature. The bot loads the modules listed here."""

from __future__ import annotations

import importlib

from bot.plugin import Plugin
from handlers.intents import Classification, classify

__all__ = ["PLUGIN_MODULES", "load_plugins", "classify", "Classification"]

PLUGIN_MODULES = [
    "handlers.help",
    "handlers.admin",
    "handlers.stats",
    "handlers.pushes.plugin",
    "handlers.appointments",
    "handlers.tips",
    "handlers.groups",
    "handlers.welcome",
    "handlers.safety",
    "handlers.guide",
    "handlers.suggestions",
    "handlers.disputes",
]


def load_plugins() -> list[Plugin]:
    return [importlib.import_module(name).plugin for name in PLUGIN_MODULES]

