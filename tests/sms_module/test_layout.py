"""The house stays easy to read: modules under 300 lines, a docstring on every package
saying what it owns, and the import contracts of pyproject.toml (``lint-imports``)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 300
SOURCES = ("host", "plugins", "tests", "bench", "migrations", "scripts")


def python_modules() -> list[Path]:
    return sorted(
        path
        for top in SOURCES
        for path in (ROOT / top).rglob("*.py")
        if "node_modules" not in path.parts
    )


def test_no_module_of_the_project_is_over_300_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in python_modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_package_of_the_sms_module_says_what_it_owns():
    packages = sorted((ROOT / "plugins" / "sms_module").rglob("__init__.py"))
    assert len(packages) >= 10
    silent = [
        str(path.relative_to(ROOT))
        for path in packages
        if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert silent == []


def test_the_import_contracts_hold():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.skip("import-linter is not installed: pip install -e '.[test]'")
    result = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "BROKEN" not in result.stdout and " KEPT" in result.stdout
