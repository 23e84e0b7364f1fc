"""Throughput: messages per second from Queued to Sent through one worker, against no-op jobs.

One burst ``crmhost worker`` drains N no-op jobs, then another drains N queued messages sent
to the simulator (callbacks off, every number at 1,000 segments/s so no rate is in the way).
No-op throughput is measured over RQ's own job records (first job's start → last job's end);
send throughput over the messages' own history (first Sending → last Sent), since a send job
takes the queue's backlog with it and most jobs never run. The wall-clock of each burst
worker (process start to exit) is shown too. Goal (issue 4): send throughput ≥ 0.5 × no-op.

    .venv/bin/python bench/throughput.py        # BENCH_JOBS=500 by default
"""

from __future__ import annotations

import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rq.job import Job  # noqa: E402
from sqlalchemy import update  # noqa: E402

from bench.common import Bench, phones  # noqa: E402
from bench.figures import verdict  # noqa: E402
from bench.messages import history_times, settled, status_counts  # noqa: E402
from host.extensions import db  # noqa: E402
from host.models import Company, Customer  # noqa: E402
from host.redis_connection import get_queue  # noqa: E402
from plugins.sms_module.models import SenderNumber  # noqa: E402
from plugins.sms_module.models.statuses import Status  # noqa: E402
from plugins.sms_module.sending import service  # noqa: E402

JOBS = int(os.environ.get("BENCH_JOBS", "500"))
GOAL = 0.5
PHONES = 20
DURATIONS: list[float] = []


def job_span(bench: Bench, ids: list[str]) -> float:
    """Return seconds from the first job's start to the last job's end (RQ's records).

    Also notes in DURATIONS the mean of each job's own start → end.
    """
    jobs = Job.fetch_many(ids, connection=bench.redis)
    missing = [i for i, job in zip(ids, jobs, strict=True) if job is None or job.ended_at is None]
    if missing:
        raise RuntimeError(f"{len(missing)} job(s) did not finish, e.g. {missing[0]}")
    DURATIONS.append(sum((j.ended_at - j.started_at).total_seconds() for j in jobs) / len(jobs))
    start = min(job.started_at for job in jobs)
    end = max(job.ended_at for job in jobs)
    return (end - start).total_seconds()


def run_noop(bench: Bench) -> tuple[float, float]:
    """Drain JOBS no-op jobs with a burst worker; return (job span, wall-clock)."""
    queue = get_queue("transactional")
    jobs = queue.enqueue_many(
        [queue.prepare_data("bench.jobs.noop", result_ttl=600) for _ in range(JOBS)]
    )
    wall = bench.run_burst_worker()
    return job_span(bench, [job.id for job in jobs]), wall


def warm_up(bench: Bench, company: Company, customers: list[Customer]) -> None:
    """Send each phone its first SMS (and the disclaimer that goes before it), untimed."""
    for customer in customers:
        service.request_send(company, customer=customer, body="Welcome")
    for _ in range(5):  # a message waiting a second for its disclaimer needs another round
        bench.run_burst_worker()
        if settled(bench.redis):
            return
        threading.Event().wait(1.1)
    raise RuntimeError("the warm-up sends did not all go")


def run_sms(bench: Bench, company: Company, customers: list[Customer]) -> tuple[float, ...]:
    """Queue JOBS messages and drain them with a burst worker.

    Returns (wall-clock, first Queued → last Sent, first Sending → last Sent).
    """
    ids = [
        service.request_send(
            company, customer=customers[i % len(customers)], body=f"Your car is ready ({i})"
        ).id
        for i in range(JOBS)
    ]
    job_ids = get_queue("transactional").job_ids
    if len(job_ids) != JOBS:
        raise RuntimeError(f"{len(job_ids)} jobs queued for {JOBS} messages")
    wall = bench.run_burst_worker()
    counts = status_counts(ids)
    if counts != {Status.SENT: JOBS}:
        raise RuntimeError(f"not every message was Sent: {counts}")
    queued = history_times(ids, Status.QUEUED)
    sending = history_times(ids, Status.SENDING)
    sent = history_times(ids, Status.SENT)
    last_sent = max(sent.values())
    return (
        wall,
        (last_sent - min(queued.values())).total_seconds(),
        (last_sent - min(sending.values())).total_seconds(),
    )


def main() -> int:
    bench = Bench()
    try:
        print(f"Throughput, one worker, {JOBS} jobs each — {bench.describe()}")
        with bench.app.app_context():
            db.session.execute(update(SenderNumber).values(rate=1000))
            db.session.commit()
            shop_id, customer_ids = bench.shop_with_customers(phones(PHONES))
            company = db.session.get(Company, shop_id)
            customers = [db.session.get(Customer, cid) for cid in customer_ids]
            warm_up(bench, company, customers)
            noop_span, noop_wall = run_noop(bench)
            sms_wall, queued_to_sent, sending_to_sent = run_sms(bench, company, customers)
    finally:
        bench.close()
    sms_span = sending_to_sent
    noop_rate, sms_rate = JOBS / noop_span, JOBS / sms_span
    ratio = sms_rate / noop_rate
    print(
        f"  no-op jobs:  {noop_rate:7.1f} jobs/s   (span {noop_span:.2f} s, wall {noop_wall:.2f} s)"
    )
    print(
        f"  SMS sends:   {sms_rate:7.1f} msgs/s   (first Sending → last Sent {sms_span:.2f} s, "
        f"wall {sms_wall:.2f} s)"
    )
    print(
        f"  history:     first Queued → last Sent {queued_to_sent:.2f} s "
        "(includes accepting the messages before the worker started)"
    )
    print(
        f"  per item:    no-op job {1000 * noop_span / JOBS:.1f} ms, "
        f"message {1000 * sms_span / JOBS:.1f} ms"
        f" (a no-op job inside RQ, start → end: {1000 * DURATIONS[0]:.1f} ms)"
    )
    wall_ratio = (JOBS / sms_wall) / (JOBS / noop_wall)
    print(f"  ratio send/no-op: {ratio:.2f} (job spans; wall-clock {wall_ratio:.2f})")
    print(f"  goal ≥ {GOAL}: {verdict(ratio >= GOAL)}")
    from bench.figures import write_json  # --json PATH: the figures for bench/run_all.py

    figures = {"no-op jobs/s": noop_rate, "sends/s": sms_rate, "ratio send/no-op": ratio}
    write_json("throughput", f"sends/no-op ≥ {GOAL}", ratio >= GOAL, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
