"""Finding the feature plugins by name, so the core never imports a feature.

A plugin is a module attribute `plugin` (a bot.plugin.Plugin). Which ones a bot loads:

- the config's `plugins:` list, when it has one: entry-point names (`tips`) or `module:attribute`
  paths (`mypackage.hello:plugin`), in that order;
- otherwise every plugin in the `jingmin.plugins` entry-point group (pyproject.toml).

Either way they are merged in the order each Plugin declares (`Plugin(..., order=N)`).
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from bot.plugin import Plugin

GROUP = "jingmin.plugins"


class PluginError(Exception):
    pass


@cache
def _declared() -> dict[str, str]:
    """Entry-point name -> "module:attribute"."""
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def available() -> list[str]:
    return list(_declared())


def default_names() -> list[str]:
    names = available()
    if not names:
        raise PluginError(f"no plugins in the '{GROUP}' entry-point group: install the package (pip install -e .)")
    return names


def load(name: str) -> Plugin:
    target = _declared().get(name, name)
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            known = ", ".join(available())
            raise PluginError(f"unknown plugin '{name}' (installed: {known})") from None
        raise
    plugin = getattr(module, attribute or "plugin", None)
    if not isinstance(plugin, Plugin):
        raise PluginError(f"'{target}' is not a plugin (a bot.plugin.Plugin named "
                          f"'{attribute or 'plugin'}' in {module_name})")
    return plugin


def load_all(names: list[str] | None = None) -> list[Plugin]:
    """The plugins named (default: all installed), in their `order`."""
    plugins = [load(name) for name in (default_names() if names is None else names)]
    return sorted(plugins, key=lambda p: (p.order, p.name))
