"""Meta-tests keeping the plugin contract honest: every hook documented with its exact
signature, and tested by a ``test_hook_<name>`` test."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from host import hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugin_hooks.md"
# The hooks' tests: the plugin system's and the events'.
HOOK_TESTS = sorted((ROOT / "tests" / "host").glob("test_plugins*.py")) + [
    ROOT / "tests" / "host" / "test_events.py"
]

# A hook's section heading: "### customer_saved(customer, changes, created)".
HEADING = re.compile(r"^#{2,4} +`?(\w+)\(([^)]*)\)`? *$", re.M)


def hook_specs() -> dict[str, tuple[str, ...]]:
    """Map each hook declared in ``host.hookspecs`` to its parameter names."""
    return {
        name: tuple(inspect.signature(fn).parameters)
        for name, fn in vars(hookspecs).items()
        if inspect.isfunction(fn) and hasattr(fn, "crmhost_spec")
    }


def documented_hooks(markdown: str) -> dict[str, tuple[str, ...]]:
    """Map each hook heading of ``markdown`` to the parameter names it shows."""
    return {
        name: tuple(p.strip() for p in params.split(",") if p.strip())
        for name, params in HEADING.findall(markdown)
    }


def defined_test_names(paths: list[Path]) -> set[str]:
    """Return the names of the functions defined in ``paths``."""
    names = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    return names


def signature_problem(hook: str, documented: dict[str, tuple[str, ...]]) -> str | None:
    """Say what is wrong with ``hook``'s documentation, or ``None``."""
    if hook not in documented:
        return f"docs/plugin_hooks.md has no section for hook {hook!r}"
    expected = f"{hook}({', '.join(SPECS[hook])})"
    shown = f"{hook}({', '.join(documented[hook])})"
    if shown != expected:
        return f"docs/plugin_hooks.md shows {shown}, the spec is {expected}"
    return None


SPECS = hook_specs()


def test_hookspecs_are_found():
    # Guards the checks below against finding nothing and passing vacuously.
    assert {"startup", "customer_saved", "appointment_changed", "invoice_printed"} <= set(SPECS)
    assert len(HOOK_TESTS) > 2 and all(path.exists() for path in HOOK_TESTS)


@pytest.mark.parametrize("hook", sorted(SPECS))
def test_hook_is_documented_with_its_signature(hook):
    documented = documented_hooks(DOCS.read_text(encoding="utf-8"))
    assert signature_problem(hook, documented) is None


def test_docs_describe_no_hook_that_does_not_exist():
    documented = documented_hooks(DOCS.read_text(encoding="utf-8"))
    assert set(documented) - set(SPECS) == set()


@pytest.mark.parametrize("hook", sorted(SPECS))
def test_hook_has_a_test(hook):
    assert f"test_hook_{hook}" in defined_test_names(HOOK_TESTS), (
        f"add a test named test_hook_{hook} to tests/host/test_plugins*.py or "
        "tests/host/test_events.py"
    )


def test_the_checks_catch_a_missing_or_wrong_hook(tmp_path):
    # The checks must see what is missing, or every test above would pass vacuously.
    documented = documented_hooks("## Hooks\n\n### startup(app, extra)\n\n### menu_links(user)\n")
    assert signature_problem("menu_links", documented) is None
    assert "the spec is startup(app)" in signature_problem("startup", documented)
    assert "no section for hook 'customer_saved'" in signature_problem("customer_saved", documented)
    tests = tmp_path / "test_some.py"
    tests.write_text("def test_hook_startup():\n    pass\n", encoding="utf-8")
    assert "test_hook_startup" in defined_test_names([tests])
    assert "test_hook_menu_links" not in defined_test_names([tests])
