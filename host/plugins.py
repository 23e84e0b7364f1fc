"""The plugin manager: discovery, switching off, and start-up checks."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType

import pluggy

from host import hookspecs

# The host's own features are plugins too; a plugin may override their answers.
DEFAULT_PLUGINS = ("host.default_plugin",)


class PluginConflict(RuntimeError):
    """Two plugins claim one name (blueprint, option number, report)."""


def get_plugin_manager(
    blocked: Iterable[str] = (), extra: Iterable[ModuleType | object] = ()
) -> pluggy.PluginManager:
    """Build a plugin manager: specs, entry-point plugins less ``blocked``, defaults, ``extra``."""
    pm = pluggy.PluginManager("crmhost")
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    pm.load_setuptools_entrypoints("crmhost")
    for module_name in DEFAULT_PLUGINS:
        if not pm.is_blocked(module_name):
            pm.register(importlib.import_module(module_name), name=module_name)
    for plugin in extra:
        if isinstance(plugin, str):
            plugin = importlib.import_module(plugin)
        pm.register(plugin)
    pm.check_pending()
    return pm


def collect_unique(pm: pluggy.PluginManager, hook_name: str, key, what: str, **kwargs) -> list:
    """Call ``hook_name`` and flatten its results, refusing two items with one ``key``."""
    hook = getattr(pm.hook, hook_name)
    seen: dict = {}
    items = []
    # Pair each result with its plugin by calling implementations one by one.
    for impl in reversed(hook.get_hookimpls()):
        argnames = impl.argnames
        result = impl.function(**{k: v for k, v in kwargs.items() if k in argnames})
        for item in result or ():
            k = key(item)
            if k in seen:
                raise PluginConflict(
                    f"{what} {k!r} is declared by both plugin {seen[k]!r} "
                    f"and plugin {impl.plugin_name!r}; switch one of them off."
                )
            seen[k] = impl.plugin_name
            items.append(item)
    return items
