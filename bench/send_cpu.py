"""CPU per send: what one message costs the worker that sends it (issue 14, point 7).

Sixty phones that already had their first SMS (and its disclaimer) each get messages of 1–3
segments, all due at once, each with its RQ job as the send service gives it. One send job
(``send_job.send_message``, the function a worker runs) then drains the backlog in this
process, by default on numbers with room for every send (``--rate 1000``: nothing waits for
the rate; ``--rate 20`` is rate_accuracy.py's). The figures:

- CPU milliseconds per message sent: this process's CPU time (``time.process_time``: user +
  system, all threads, so the lease keeper's heartbeats count) over the drain, divided by
  the messages sent; the carrier simulator's own share (its ``send``, which writes the
  carrier's record to Redis) is shown apart, since a real carrier's is an HTTP call. On a
  shared machine this figure is noisy (caches, other processes): take the lowest of runs;
- SQL statements and commits per message (a ``before_cursor_execute`` listener) and Redis
  round trips per message (a pipeline or a script counts once): exact;
- Python function calls per message (cProfile, over a second, smaller drain): nearly exact,
  a figure of the Python work that the machine's load does not move;
- with ``--beside``, the wall time per message with one CPU-bound process running beside;
- with ``--profile``, the functions that take the most CPU (cProfile, process time).

Goal (issue 14, point 7): at most ``GOAL_MS`` CPU ms per message on the send path, so three
workers on a shared machine still feed 6 numbers × 20 segments/s (59 messages/s).

    .venv/bin/python bench/send_cpu.py [--messages 600] [--rate 20] [--beside] [--profile]
        [--json PATH]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import time
from collections import Counter
from contextlib import contextmanager

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import redis  # noqa: E402
from sqlalchemy import event, select, update  # noqa: E402

from bench.common import Bench, phones  # noqa: E402
from bench.figures import verdict, write_json  # noqa: E402
from bench.rate_analysis import cpu_bound_beside  # noqa: E402
from host.extensions import db  # noqa: E402
from host.models import Company, Customer  # noqa: E402
from plugins.sms_module.carriers import simulator  # noqa: E402
from plugins.sms_module.models import SenderNumber, SmsMessage, Status  # noqa: E402
from plugins.sms_module.sending import send_job, service  # noqa: E402

PHONES = 60
# 3 workers feeding 59 messages/s on 2 shared cores leave each message about 15 ms of CPU;
# the goal keeps the send path well under it.
GOAL_MS = 8.0
BODIES = {size: "Your car is ready. " * count for size, count in ((1, 5), (2, 10), (3, 20))}


class Counts:
    """SQL statements, commits and Redis round trips seen while ``counting`` is on."""

    def __init__(self) -> None:
        self.sql: Counter = Counter()
        self.redis = 0
        self.commands: Counter = Counter()
        self.on = False

    def statement(self, _conn, _cursor, statement, *_args) -> None:
        if self.on:
            self.sql[statement.split(None, 1)[0].upper()] += 1

    def commit(self, _conn) -> None:
        if self.on:
            self.sql["COMMIT"] += 1


@contextmanager
def counting(counts: Counts):
    """Count SQL statements (engine events) and Redis round trips (each packed command sent
    on a connection: a pipeline or a script call counts once) for the block."""
    original = redis.connection.AbstractConnection.send_packed_command
    original_execute = redis.client.Redis.execute_command

    def send_packed_command(self, command, check_health=True):
        if counts.on:
            counts.redis += 1
        return original(self, command, check_health)

    def execute_command(self, *args, **options):
        if counts.on:
            counts.commands[str(args[0]).upper()] += 1
        return original_execute(self, *args, **options)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", counts.statement)
    event.listen(engine, "commit", counts.commit)
    redis.connection.AbstractConnection.send_packed_command = send_packed_command
    redis.client.Redis.execute_command = execute_command
    counts.on = True
    try:
        yield counts
    finally:
        counts.on = False
        redis.connection.AbstractConnection.send_packed_command = original
        redis.client.Redis.execute_command = original_execute
        event.remove(engine, "before_cursor_execute", counts.statement)
        event.remove(engine, "commit", counts.commit)


def unsent() -> list[int]:
    """Return the messages not Sent yet (disclaimers included), oldest first."""
    rows = db.session.scalars(
        select(SmsMessage.id).where(SmsMessage.status != Status.SENT).order_by(SmsMessage.id)
    ).all()
    db.session.commit()
    return list(rows)


def drain(count: int) -> int:
    """Run send jobs (each going on with the backlog) until every message is Sent; return
    how many jobs it took."""
    jobs = 0
    while left := unsent():
        send_job.send_message(left[0])
        jobs += 1
        if jobs > count + 5:
            raise RuntimeError(f"messages not sent: {left[:10]}")
    return jobs


def batch(company: Company, customer_ids: list[int], count: int, rng: random.Random) -> None:
    """Accept ``count`` messages of 1–3 segments to the phones, due now."""
    for _ in range(count):
        customer = db.session.get(Customer, rng.choice(customer_ids))
        body = BODIES[rng.randint(1, 3)]
        service.request_send(company, customer=customer, body=body)
    db.session.expire_all()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument(
        "--rate",
        type=float,
        default=1000,
        help="segments/s of every number (1000: none waits; 20: as in rate_accuracy.py)",
    )
    parser.add_argument(
        "--beside", action="store_true", help="drain again beside a CPU-bound process"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the drain")
    parser.add_argument("--profile-file", help="write the cProfile stats there (pstats)")
    parser.add_argument("--json", help="write the figures there as JSON")
    args = parser.parse_args()
    bench = Bench(SMS_BATCH_SECONDS=120)
    print(f"CPU per send: {args.messages} messages, one send job draining — {bench.describe()}")
    try:
        with bench.app.app_context():
            figures = run(bench, args)
    finally:
        bench.close()
    goal = f"≤ {GOAL_MS:g} CPU ms per message sent"
    write_json("send_cpu", goal, figures["CPU ms per message"] <= GOAL_MS, figures, path=args.json)
    return 0


def run(bench: Bench, args) -> dict:
    db.session.execute(update(SenderNumber).values(rate=args.rate))
    db.session.commit()
    shop_id, customer_ids = bench.shop_with_customers(phones(PHONES))
    company = db.session.get(Company, shop_id)
    # Untimed: each phone's first SMS, after its disclaimer.
    for customer_id in customer_ids:
        service.request_send(company, customer=db.session.get(Customer, customer_id), body="Hi")
    drain(2 * len(customer_ids))
    rng = random.Random(14)
    sent = args.messages
    batch(company, customer_ids, sent, rng)

    carrier_cpu = [0.0]
    original_send = simulator.SimulatorCarrier.send

    def timed_send(self, **kwargs):
        started = time.process_time()
        try:
            return original_send(self, **kwargs)
        finally:
            carrier_cpu[0] += time.process_time() - started

    simulator.SimulatorCarrier.send = timed_send
    with counting(Counts()) as counts:
        cpu, wall = time.process_time(), time.perf_counter()
        jobs = drain(sent)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    simulator.SimulatorCarrier.send = original_send
    # The Python work, apart: a smaller drain under cProfile (its overhead is not timed).
    profiled = max(100, sent // 4)
    batch(company, customer_ids, profiled, rng)
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    drain(profiled)
    profile.disable()
    stats = pstats.Stats(profile, stream=io.StringIO())
    per = 1000 * cpu / sent
    carrier_ms = 1000 * carrier_cpu[0] / sent
    statements = sum(n for kind, n in counts.sql.items() if kind != "COMMIT")
    figures = {
        "messages": sent,
        "send jobs": jobs,
        "CPU ms per message": round(per, 2),
        "of which the carrier simulator, ms": round(carrier_ms, 2),
        "send path without the simulator, ms": round(per - carrier_ms, 2),
        "SQL statements per message": round(statements / sent, 2),
        "commits per message": round(counts.sql["COMMIT"] / sent, 2),
        "Redis round trips per message": round(counts.redis / sent, 2),
        "Python function calls per message": round(stats.total_calls / profiled),
        "wall ms per message": round(1000 * wall / sent, 2),
    }
    if args.beside:
        batch(company, customer_ids, sent, rng)
        with cpu_bound_beside():
            started = time.perf_counter()
            drain(sent)
            figures["wall ms per message, CPU-bound process beside"] = round(
                1000 * (time.perf_counter() - started) / sent, 2
            )
    for label, value in figures.items():
        print(f"  {label}: {value}")
    kinds = ", ".join(f"{k} {n / sent:.2f}" for k, n in counts.sql.most_common())
    print(f"  statements per message by kind: {kinds}")
    commands = ", ".join(f"{k} {n / sent:.2f}" for k, n in counts.commands.most_common())
    print(f"  Redis commands per message (outside pipelines): {commands}")
    print(
        f"  goal ≤ {GOAL_MS:g} CPU ms per message (3 workers × 59 messages/s on 2 shared "
        f"cores): {verdict(per <= GOAL_MS)}"
    )
    if args.profile_file:
        profile.dump_stats(args.profile_file)
    if args.profile:
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        print(out.getvalue())
    return figures


if __name__ == "__main__":
    sys.exit(main())
