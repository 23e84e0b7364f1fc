"""Webhook ingestion (issue 14, point 5): the product's status callbacks and inbound replies
under gunicorn against a bare signature-checking endpoint, side by side, with 0 lost.

The product runs as the README's production command runs it (gunicorn ``-w 4``,
``host.app:create_app()``, sync workers, Twilio mode) on ``BENCH_DATABASE_URL`` and
``BENCH_REDIS_URL`` (both emptied first); the bare endpoint (``bench.webhooks_load.bare_app``:
Twilio's ``RequestValidator`` and nothing else) and the floor (``floor_app``: the same, then
one durable INSERT of the request through the driver, the least that keeping anything
costs) run under the same gunicorn settings. The world and the requests are in
``bench.webhooks_plan``: Sent messages whose callbacks come out of order (a late "sent", a
failure with its code, a retried final report), and customers' replies (a few from
strangers, a few retried with the same MessageSid).

Timing: the requests are split into slices of ``--slice``; each round sends one slice of
callbacks and one of replies to each side, in a shuffled order, so the servers share
whatever else the machine does. A side's rate = its requests / the seconds its slices took
(from the first request sent to the last answer read, ``--concurrency`` connections at
once); latency is per request, connect to last byte. Goal: each rate ≥ 0.5 × the bare
endpoint's (the product's rate over the floor's is shown beside it: how far the product is
from one durable write per request), every answer a 200, and from the database afterwards
every message in the final status its callbacks imply with that status once in its
history, every reply kept exactly once and routed to its customer's shop. The statements
one callback and one reply cost are counted in-process (a SQLAlchemy listener) on the same
database after the run.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/webhooks_db \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/webhooks.py \\
        [--requests 1500] [--concurrency 16] [--slice 250] [--workers 4] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import secrets
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import event, select, text  # noqa: E402

from bench import webhooks_load as load  # noqa: E402
from bench import webhooks_plan  # noqa: E402
from bench.common import Bench  # noqa: E402
from bench.figures import percentile, verdict, write_json  # noqa: E402
from host.extensions import db  # noqa: E402
from plugins.sms_module.conversations import inbound_store  # noqa: E402

GOAL = 0.5
WARMUP = 40
KINDS = ("status", "inbound")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1500, help="callbacks and replies each")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--slice", type=int, default=250)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (each side)")
    parser.add_argument("--threads", type=int, default=1, help="gthread threads (each side)")
    parser.add_argument("--json", help="write the figures there as JSON")
    args = parser.parse_args()
    token = secrets.token_hex(16)
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
    load.empty_postgres(os.environ.get("BENCH_DATABASE_URL"))
    with contextlib.redirect_stderr(io.StringIO()):  # Alembic's migration log
        bench = Bench(
            SMS_PROVIDER="twilio",
            TWILIO_ACCOUNT_SID=webhooks_plan.ACCOUNT,
            TWILIO_AUTH_TOKEN=token,
            SMS_PUBLIC_BASE_URL=load.PUBLIC_BASE,
        )
    shape = f"-w {args.workers}" + (f" --threads {args.threads}" if args.threads > 1 else "")
    print(f"Webhooks under gunicorn {shape}: product vs bare vs floor — {bench.describe()}")
    servers = []
    try:
        with bench.app.app_context():
            world, sent = webhooks_plan.seed(bench, args.requests + WARMUP)
            the_plan = webhooks_plan.plan(
                world, sent, token, args.requests + WARMUP, args.requests + WARMUP
            )
        env = bench.worker_env()
        env.update(SMS_PROVIDER="twilio", BENCH_WEBHOOK_TOKEN=token)
        load.create_floor_table(bench.database_url)
        sides = {}
        for name, app, ready in (
            ("product", "host.app:create_app()", "/api/v1/openapi.json"),
            ("bare", "bench.webhooks_load:bare_app()", "/ready"),
            ("floor", "bench.webhooks_load:floor_app()", "/ready"),
        ):
            port = load.free_port()
            log = os.path.join(bench.tmp, f"{name}.log")
            servers.append(load.gunicorn(app, port, env, log, args.workers, args.threads))
            load.wait_ready(port, ready, servers[-1])
            sides[name] = port
        results = run(sides, the_plan, args)
        for process in servers:
            load.stop(process)
        servers.clear()
        with bench.app.app_context():
            losses = webhooks_plan.audit(the_plan)
            counts = statements(bench, sent)
            plan = routing_plan(sent)
    finally:
        for process in servers:
            load.stop(process)
        bench.close()
    figures, met = report(results, losses, counts, plan)
    goal = f"callbacks and replies each ≥ {GOAL:g} × the bare endpoint's rate, 0 lost"
    series = {"latency percentiles (ms)": percentiles(results)}
    write_json("webhooks", goal, met, figures, series, path=args.json)
    return 0


def run(sides: dict[str, int], the_plan, args) -> dict:
    """Send the plan to both sides, slice by slice in a shuffled order; return per side and
    kind the answers' statuses, latencies and the seconds the slices took."""
    payloads = {"status": the_plan.callbacks, "inbound": the_plan.replies}
    # Warm-up, untimed: each gunicorn worker's first requests (imports, connections).
    for kind in KINDS:
        for port in sides.values():
            load.fire(port, payloads[kind][:WARMUP], args.concurrency)
    results = {(s, k): load.Slice([], [], 0.0) for s in sides for k in KINDS}
    rng = random.Random(5)
    slices = range(WARMUP, len(payloads["status"]), args.slice)
    for start in slices:
        order = [(s, k) for s in sides for k in KINDS]
        rng.shuffle(order)
        for side, kind in order:
            part = payloads[kind][start : start + args.slice]
            if not part:
                continue
            got = load.fire(sides[side], part, args.concurrency)
            total = results[side, kind]
            total.statuses += got.statuses
            total.latencies += got.latencies
            total.seconds += got.seconds
    return results


def statements(bench, sent) -> dict[str, int]:
    """Count the SQL statements of one more callback that moves its message, one late
    callback that cannot, and one more reply, in-process on the same database."""
    message_id, sid, phone, number = sent[-1]
    token = bench.app.config["TWILIO_AUTH_TOKEN"]
    status_path = f"/sms/twilio/status?message_id={message_id}"
    reply = {"From": phone, "To": number, "Body": "Thanks", "MessageSid": "SM" + "9" * 32}
    requests = {
        "moving callback": (status_path, {"MessageSid": sid, "MessageStatus": "delivered"}),
        "late callback": (status_path, {"MessageSid": sid, "MessageStatus": "sent"}),
        "reply": ("/sms/twilio/inbound", reply),
    }
    counted = []

    def count(*_args) -> None:
        counted.append(1)

    client = bench.app.test_client()
    figures = {}
    for name, (path, params) in requests.items():
        signature = load.RequestValidator(token).compute_signature(load.PUBLIC_BASE + path, params)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            answer = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        figures[name] = len(counted) if answer.status_code == 200 else -1
        counted.clear()
    return figures


def percentiles(results: dict) -> dict[str, list[list[float]]]:
    """Each side and kind's latency at the 50th to the 99th percentile, in ms."""
    return {
        f"{side} {kind}": [
            [p, round(percentile(got.latencies, p / 100) * 1000, 2)] for p in (50, 75, 90, 95, 99)
        ]
        for (side, kind), got in results.items()
        if got.latencies
    }


def routing_plan(sent) -> str:
    """Return how the database finds a reply's shop (its plan's step on ``sms_message``)."""
    _message_id, _sid, phone, number = sent[-1]
    query = select(inbound_store.shop_of(phone, number))
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "postgresql":
        lines = [row[0] for row in db.session.execute(text(f"EXPLAIN {sql}"))]
    else:
        lines = [row[3] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
    db.session.commit()
    found = [line.strip(" ->") for line in lines if "sms_message" in line]
    return found[0].split("  (")[0] if found else "; ".join(lines)


def report(results: dict, losses: dict[str, int], counts: dict, plan: str) -> tuple[dict, bool]:
    """Print the figures and the goal; return them (for ``--json``) and whether it is met."""
    figures: dict = {}
    met = True
    not_200 = 0
    for kind, label in (("status", "status callbacks"), ("inbound", "inbound replies")):
        rates = {}
        for side in ("product", "bare", "floor"):
            got = results[side, kind]
            rates[side] = len(got.statuses) / got.seconds if got.seconds else 0.0
            p50 = statistics.median(got.latencies) * 1000
            p99 = percentile(got.latencies, 0.99) * 1000
            errors = sum(s != 200 for s in got.statuses)
            not_200 += errors if side == "product" else 0
            print(
                f"  {label:16} {side:8} {len(got.statuses):5} requests  {rates[side]:7.1f}/s"
                f"  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  non-200: {errors}"
            )
            figures[f"{label} {side} /s"] = round(rates[side], 1)
            figures[f"{label} {side} p50 ms"] = round(p50, 2)
            figures[f"{label} {side} p99 ms"] = round(p99, 2)
        ratio = rates["product"] / rates["bare"] if rates["bare"] else 0.0
        figures[f"{label} ratio"] = round(ratio, 3)
        print(f"  {label}: ratio {ratio:.2f} (goal ≥ {GOAL:g}) {verdict(ratio >= GOAL)}")
        for over, under in (("product", "floor"), ("floor", "bare")):
            share = rates[over] / rates[under] if rates[under] else 0.0
            figures[f"{label} {over} / {under}"] = round(share, 3)
            print(f"  {label}: {over} / {under} {share:.2f}")
        met = met and ratio >= GOAL
    lost = sum(losses.values()) + not_200
    for what, count in losses.items():
        print(f"  {what}: {count}")
        figures[what] = count
    figures["product answers not 200"] = not_200
    figures["lost"] = lost
    print(f"  lost: {lost} (goal 0) {verdict(lost == 0)}")
    for kind, count in counts.items():
        figures[f"SQL statements per {kind}"] = count
        print(f"  SQL statements per {kind} (in-process): {count}")
    figures["reply routing plan"] = plan
    print(f"  reply routing: {plan}")
    met = met and lost == 0
    print(f"Goal: both ratios ≥ {GOAL:g}, 0 lost: {verdict(met)}")
    return figures, met


if __name__ == "__main__":
    sys.exit(main())
