"""How the benchmarks report their figures: percentiles, whether a goal is met, and the
JSON document ``--json PATH`` writes for ``bench/run_all.py``."""

from __future__ import annotations

import json
import statistics
import sys


def percentile(values: list[float], fraction: float) -> float:
    """Return the ``fraction`` percentile of ``values`` (linear interpolation)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(fraction * 1000) - 1]


def verdict(ok: bool) -> str:
    """Say whether a goal is met, in the word the scripts print."""
    return "PASS" if ok else "MISS"


def json_path(argv: list[str] | None = None) -> str | None:
    """Return PATH of ``--json PATH`` (or ``--json=PATH``) on the command line, else None.

    For the scripts that read no other option; the newer ones take ``--json`` with argparse.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(args):
        if arg == "--json" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--json="):
            return arg.split("=", 1)[1]
    return None


def write_json(
    name: str,
    goal: str,
    met: bool,
    figures: dict[str, float | int | str],
    series: dict | None = None,
    path: str | None = None,
) -> None:
    """Write a run's figures as ``bench/run_all.py`` reads them, to ``path`` (default: the
    ``--json`` option; nothing without one): ``{"name", "goal", "met", "figures", "series"}``.
    Floats are rounded to 4 decimals."""
    path = path or json_path()
    if not path:
        return
    document = {
        "name": name,
        "goal": goal,
        "met": bool(met),
        "figures": {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()},
        "series": series or {},
    }
    with open(path, "w") as out:
        json.dump(document, out, indent=2, ensure_ascii=False)
