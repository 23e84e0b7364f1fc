"""The benchmark report ``bench/run_all.py`` writes: ``latest.md`` (the machine, one table of
every goal, then each benchmark's figures), the SVG plots beside it, and the table between
the ``<!-- bench:start -->`` and ``<!-- bench:end -->`` markers of README.md.

A result is the JSON a script writes with ``--json`` (``bench.figures.write_json``:
``name``, ``goal``, ``met``, ``figures``, ``series``) plus what the runner adds: ``status``
(``ok``, ``failed``, ``skipped``), ``note``, ``seconds``, ``ran``, ``cpu`` (the machine's
CPU) and ``headline`` (the figures the goals table shows; the first figure when it names
none). A series is
``{line name: [[x, y], ...]}``, plotted as lines.
"""

from __future__ import annotations

import os
import re

from bench import svg

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def slug(text: str) -> str:
    """Return ``text`` as a file name: lower case, words joined by dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "plot"


def value_text(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def met_text(result: dict) -> str:
    if result.get("status") == "skipped":
        return "skipped"
    if result.get("status") == "failed":
        return "**failed**"
    return "yes" if result.get("met") else "**no**"


def headline(result: dict) -> str:
    """Return the figures the goals table shows: those the result's ``headline`` names (the
    runner's choice), else its first."""
    figures = result.get("figures") or {}
    if not figures:
        return result.get("note", "")
    chosen = [label for label in result.get("headline", ()) if label in figures]
    labels = chosen or [next(iter(figures))]
    return "; ".join(f"{label}: {value_text(figures[label])}" for label in labels)


def provenance(result: dict) -> str:
    """Return when and on which CPU ``result`` ran: ``"2026-12-02 08:04 UTC, AMD EPYC"``."""
    return f"{result.get('ran', 'date unknown')}, {result.get('cpu', 'CPU not recorded')}"


def goals_table(results: list[dict], cpu: str | None = None) -> list[str]:
    """Return the Markdown table of every goal: benchmark, figure, goal, met. A result that
    did not run on ``cpu`` (this run's machine) says when and on what it ran: its figures
    are not comparable with this machine's."""
    rows = ["| benchmark | figure | goal | met |", "|---|---|---|---|"]
    for r in results:
        name = r["name"]
        if cpu is not None and r.get("cpu") != cpu:
            name += f" ({provenance(r)})"
        cells = (name, headline(r), r.get("goal", ""), met_text(r))
        rows.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return rows


def plots(results: list[dict], folder: str) -> dict[str, list[str]]:
    """Write the SVG plots into ``folder``; return each benchmark's plot file names."""
    written: dict[str, list[str]] = {}
    rates = [
        (f"{r['name']}: {label}", float(v))
        for r in results
        for label, v in (r.get("figures") or {}).items()
        if "/s" in label and isinstance(v, int | float)
    ]
    if rates:
        _write(folder, "throughput.svg", svg.bars("Throughput (per second)", "per second", rates))
        written.setdefault("(all)", []).append("throughput.svg")
    for r in results:
        for key, series in (r.get("series") or {}).items():
            if isinstance(series, list):
                series = {key: series}
            if not isinstance(series, dict) or not series:
                continue
            xlabel, ylabel = _axes_of(key)
            name = f"{slug(r['name'])}-{slug(key)}.svg"
            _write(folder, name, svg.lines(f"{r['name']}: {key}", xlabel, ylabel, series))
            written.setdefault(r["name"], []).append(name)
    return written


def _axes_of(key: str) -> tuple[str, str]:
    text = key.lower()
    if "percentile" in text:
        return "percentile", key
    if "size" in text or "report" in text:
        return "messages in the database", key
    if "rate" in text or "over time" in text:
        return "seconds since the first send", key
    return "", key


def _write(folder: str, name: str, content: str) -> None:
    with open(os.path.join(folder, name), "w") as out:
        out.write(content)


def markdown(results: list[dict], machine: dict[str, str], run: dict[str, str], plotted) -> str:
    """Return the whole report as Markdown."""
    lines = ["# Benchmark report", ""]
    lines += [f"- {k}: {v}" for k, v in run.items()]
    lines += ["", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in machine.items()]
    lines += ["", "## Goals", "", *goals_table(results, machine.get("CPU")), ""]
    lines += ["![throughput](throughput.svg)" for _ in plotted.get("(all)", [])[:1]]
    for r in results:
        lines += ["", f"## {r['name']}", ""]
        if r.get("goal"):
            lines.append(f"Goal: {r['goal']} — met: {met_text(r)}")
        if r.get("note"):
            lines += ["", r["note"]]
        figures = r.get("figures") or {}
        if figures:
            lines += ["", "| figure | value |", "|---|---|"]
            lines += [f"| {k} | {value_text(v)} |" for k, v in figures.items()]
        for name in plotted.get(r["name"], []):
            lines += ["", f"![{name}]({name})"]
        if r.get("tail"):
            lines += ["", "```", *r["tail"], "```"]
    return "\n".join(lines) + "\n"


def readme_block(results: list[dict], machine: dict[str, str], run: dict[str, str]) -> str:
    """Return what goes between the README's markers."""
    where = f"{machine.get('CPU', '?')}, {machine.get('cores', '?')} cores; {run.get('database')}"
    return "\n".join(
        [
            START,
            f"Latest run ({run.get('date')}, {run.get('mode')}, {where}; "
            "full report: `bench/results/latest.md`):",
            "",
            *goals_table(results, machine.get("CPU")),
            END,
        ]
    )


def update_readme(path: str, block: str) -> bool:
    """Replace the block between the markers of ``path``; return whether they were there."""
    with open(path) as f:
        content = f.read()
    start, end = content.find(START), content.find(END)
    if start < 0 or end < start:
        return False
    with open(path, "w") as f:
        f.write(content[:start] + block + content[end + len(END) :])
    return True
