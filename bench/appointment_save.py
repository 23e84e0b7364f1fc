"""Appointment save: the host's ``POST /appointments/<id>`` with the SMS plugin on against off.

Three variants, each served by its own single-threaded werkzeug WSGI server on localhost
(HTTP/1.1 keep-alive) and driven over one ``http.client`` connection by a logged-in admin:

* ``on``      — plugin loaded, option 124 on, the customer has consent and a phone and the
  disclaimer already went: each save moves the appointment, and the plugin's hook puts one
  event job on a real Redis (RQ); a worker later cancels the old reminder and writes the
  "moved" message and the new reminder;
* ``opt-off`` — plugin loaded, option 124 off for the shop (the hook returns at once);
* ``absent``  — plugin not loaded (``PLUGINS_DISABLED=["sms"]``).

Each save moves its appointment one minute later than the last one, so every save changes
the appointment and fires the event. No worker runs during the timing: jobs only queue.
Afterwards the script runs the queued event jobs in-process, as a worker would, and checks
what they wrote. The variants are interleaved in a shuffled order each round, so machine noise hits
all three. Goal (issue 5): median(on) / median(off) ≤ 1.5 against both baselines.

    .venv/bin/python bench/appointment_save.py      # BENCH_SAVES=300, BENCH_PROFILE=1 to profile
"""

from __future__ import annotations

import io
import os
import pstats
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import func, select  # noqa: E402

from bench.appointment_client import Variant, add_shop  # noqa: E402
from bench.common import Bench  # noqa: E402
from bench.figures import percentile, verdict  # noqa: E402
from host.app import create_app  # noqa: E402
from host.extensions import db  # noqa: E402
from host.redis_connection import get_queue  # noqa: E402
from plugins.sms_module.jobs import EVENT_JOB_PATHS  # noqa: E402
from plugins.sms_module.models import SmsMessage  # noqa: E402

SAVES = int(os.environ.get("BENCH_SAVES", "300"))
WARMUP = 20
BUDGET_SECONDS = float(os.environ.get("BENCH_SECONDS", "45"))
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
GOAL = 1.5


def summary(times: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(times) * 1000,
        "p90": percentile(times, 0.9) * 1000,
        "mean": statistics.fmean(times) * 1000,
    }


def message_counts(bench: Bench, variants: dict[str, Variant]) -> dict[str, dict[str, int]]:
    """Return each variant's shop's messages by kind, and Redis's waiting and scheduled jobs."""
    counts = {}
    with bench.app.app_context():
        for name, variant in variants.items():
            counts[name] = dict(
                db.session.execute(
                    select(SmsMessage.kind, func.count())
                    .where(SmsMessage.company_id == variant.shop["shop"])
                    .group_by(SmsMessage.kind)
                ).all()
            )
        queue = get_queue("transactional")
        counts["redis"] = {"waiting": queue.count, "scheduled": queue.scheduled_job_registry.count}
        db.session.remove()
    return counts


def event_job_ids(bench: Bench) -> set[str]:
    """Return the ids of the event jobs waiting on the transactional queue."""
    with bench.app.app_context():
        return {
            job.id
            for job in get_queue("transactional").get_jobs()
            if job.func_name in EVENT_JOB_PATHS
        }


def run_event_jobs(bench: Bench, ids: set[str]) -> int:
    """Do, after the timing, what a worker does with the saves' event jobs."""
    with bench.app.app_context():
        queue = get_queue("transactional")
        ran = 0
        for job in queue.get_jobs():
            if job.id in ids:
                queue.remove(job)
                job.perform()
                ran += 1
        db.session.remove()
    return ran


def check_messages(before: dict, after: dict, variants: dict[str, Variant]) -> list[str]:
    """Say what the saves' events wrote once a worker ran them; fail loudly if they did not
    fire."""
    new = {
        name: {k: n - before[name].get(k, 0) for k, n in kinds.items() if n != before[name].get(k)}
        for name, kinds in after.items()
    }
    moves = variants["on"].moves
    # The jobs run after every save, so they all read the last start time: one "moved"
    # message and one reminder, for that time (the dedupe keys fold the rest).
    expected = {"appointment_moved": 1, "appointment_reminder": 1}
    if new["on"] != expected:
        raise RuntimeError(f"plugin on: {moves} saves wrote {new['on']}, not {expected}")
    if new["opt-off"] or new["absent"]:
        raise RuntimeError(f"plugin off wrote messages: {new['opt-off']} {new['absent']}")
    return [
        f"  on: {moves} saves (with warm-up) queued one event job each; run afterwards as a "
        f"worker would, they wrote {new['on']} for the last start time, no disclaimer",
        f"  opt-off and absent: {variants['opt-off'].moves} and {variants['absent'].moves} "
        "saves wrote no message",
    ]


def profile_on(variant: Variant, saves: int = 100) -> None:
    """Profile ``saves`` more saves of the plugin-on variant and print where the time goes."""
    variant.wsgi.active = True
    for _ in range(saves):
        variant.save()
    variant.wsgi.active = False
    out = io.StringIO()
    stats = pstats.Stats(variant.wsgi.profile, stream=out)
    stats.sort_stats("cumulative").print_stats(r"(host|plugins|sqlalchemy/orm/session|rq)/", 35)
    print(f"\nProfile of {saves} plugin-on saves (cumulative, project code):")
    print(out.getvalue())


def main() -> int:
    bench = Bench()
    variants: dict[str, Variant] = {}
    absent_app = None
    try:
        with bench.app.app_context():
            shops = {
                "on": add_shop(bench, 1, option_on=True, disclaimer_sent=True),
                "opt-off": add_shop(bench, 2, option_on=False, disclaimer_sent=False),
                "absent": add_shop(bench, 3, option_on=True, disclaimer_sent=False),
            }
            db.session.remove()
        absent_app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": bench.database_url,
                "REDIS_URL": bench.redis_url,
                "PLUGINS_DISABLED": ["sms"],
            }
        )
        assert "sms" not in absent_app.extensions
        variants = {
            "on": Variant("on", bench.app, shops["on"]),
            "opt-off": Variant("opt-off", bench.app, shops["opt-off"]),
            "absent": Variant("absent", absent_app, shops["absent"]),
        }
        before = message_counts(bench, variants)
        jobs_before = event_job_ids(bench)
        order = list(variants.values())
        for _ in range(WARMUP):
            for variant in order:
                variant.save()
        started = time.perf_counter()
        rounds = 0
        while rounds < SAVES and time.perf_counter() - started < BUDGET_SECONDS:
            random.shuffle(order)
            for variant in order:
                variant.times.append(variant.save())
            rounds += 1
        elapsed = time.perf_counter() - started

        print(f"Appointment save, SMS plugin on vs off — {bench.describe()}")
        print(
            f"werkzeug WSGI server on 127.0.0.1, http.client keep-alive; {rounds} saves per "
            f"variant, interleaved in shuffled rounds ({elapsed:.1f}s), after {WARMUP} warm-up"
        )
        stats = {name: summary(v.times) for name, v in variants.items()}
        for name, s in stats.items():
            print(
                f"  {name:8s} median {s['median']:6.2f} ms   p90 {s['p90']:6.2f} ms   "
                f"mean {s['mean']:6.2f} ms"
            )
        ok = True
        for base in ("absent", "opt-off"):
            ratio = stats["on"]["median"] / stats[base]["median"]
            ratio90 = stats["on"]["p90"] / stats[base]["p90"]
            ok = ok and ratio <= GOAL
            print(f"  on / {base:8s} median ratio {ratio:.2f}  (p90 ratio {ratio90:.2f})")
        saved_jobs = event_job_ids(bench) - jobs_before
        if len(saved_jobs) != variants["on"].moves:
            raise RuntimeError(f"{len(saved_jobs)} event jobs for {variants['on'].moves} saves")
        run_event_jobs(bench, saved_jobs)
        for line in check_messages(before, message_counts(bench, variants), variants):
            print(line)
        print(f"Goal: median(on) / median(off) ≤ {GOAL} against both baselines — {verdict(ok)}")
        from bench.figures import write_json  # --json PATH: the figures for bench/run_all.py

        write_json(
            "appointment_save",
            f"median(on) / median(off) ≤ {GOAL}",
            ok,
            {f"{name} median (ms)": s["median"] for name, s in stats.items()}
            | {
                f"on / {b}": stats["on"]["median"] / stats[b]["median"]
                for b in ("absent", "opt-off")
            },
        )
        if PROFILE or not ok:
            profile_on(variants["on"])
        return 0
    finally:
        for variant in variants.values():
            variant.close()
        if absent_app is not None:
            with absent_app.app_context():
                db.session.remove()
                db.engine.dispose()
        bench.close()


if __name__ == "__main__":
    sys.exit(main())
