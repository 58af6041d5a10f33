"""Feature plugins, one module per feature. The bot loads the modules listed here."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from bot.plugin import Plugin

PLUGIN_MODULES = [
    "handlers.help",
    "handlers.admin",
    "handlers.tips",
]


def load_plugins() -> list[Plugin]:
    return [importlib.import_module(name).plugin for name in PLUGIN_MODULES]


@dataclass(frozen=True)
class Classification:
    intent: str
    confidence: float
    detail: str | None = None


def classify(text: str) -> Classification:
    # Placeholder until the understanding issue lands its classifier: treat everything as chatter.
    return Classification("other", 0.0)
