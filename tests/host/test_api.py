"""The host's published surface (``host/api.py``): it lists what it exports, and every name
a plugin takes from the host is in it, as the very same object. (That plugins import
nothing else from the host is an import-linter contract of pyproject.toml.)"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import host
from host import api

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def host_imports(folder: Path) -> list[tuple[str, str, str]]:
    """Return ``(file, module, name)`` for each name the files under ``folder`` import from
    the host (``name`` is empty for a plain ``import host...``)."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        where = str(path.relative_to(folder.parent))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module == "host" or node.module.startswith("host."):
                    found += [(where, node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [
                    (where, alias.name, "")
                    for alias in node.names
                    if alias.name == "host" or alias.name.startswith("host.")
                ]
    return found


def test_all_lists_every_public_name_and_nothing_else():
    public = {name for name in vars(api) if not name.startswith("_")}
    assert len(api.__all__) == len(set(api.__all__)), "a name is listed twice"
    assert set(api.__all__) == public


def test_the_marker_is_the_host_s_marker():
    assert api.hookimpl is host.hookimpl


def test_every_name_a_plugin_takes_from_the_host_is_published():
    imported = host_imports(PLUGINS)
    assert imported, "no plugin imports from the host: the scan found nothing"
    unpublished = sorted(
        f"{where}: from {module} import {name}"
        for where, module, name in imported
        if name not in api.__all__
    )
    assert unpublished == [], "publish these in host/api.py"
    # Re-exported, not copied: importing a name from host.api gives the very same object.
    for _where, module, name in imported:
        assert getattr(importlib.import_module(module), name) is getattr(api, name), name


def test_the_scan_sees_every_form_of_import(tmp_path):
    (tmp_path / "plugin.py").write_text(
        "import host.models\nfrom host import hookimpl\nfrom host.api import db\n"
        "from . import views\nfrom hostile import x\n\n\ndef later():\n    import host\n",
        encoding="utf-8",
    )
    found = {(module, name) for _where, module, name in host_imports(tmp_path)}
    assert found == {("host.models", ""), ("host", "hookimpl"), ("host.api", "db"), ("host", "")}


def test_option_enabled_sql_says_what_option_enabled_says(app, shops):
    from sqlalchemy import bindparam, select

    shop = shops["a"]["shop"]
    with app.app_context():
        api.db.session.add_all(
            [
                api.CompanyOption(company_id=shop, number=7, enabled=True),
                api.CompanyOption(company_id=shop, number=8, enabled=False),
            ]
        )
        api.db.session.commit()
        read = select(api.option_enabled_sql(bindparam("shop"), 7))
        seen = {
            number: api.db.session.scalar(
                select(api.option_enabled_sql(bindparam("shop"), number)), {"shop": shop}
            )
            for number in (7, 8, 9)  # on, off, never set
        }
        assert seen == {7: True, 8: False, 9: False}
        assert seen == {n: api.option_enabled(shop, n) for n in (7, 8, 9)}
        assert api.db.session.scalar(read, {"shop": shops["b"]["shop"]}) is False
