"""Two shops on one sender number: does the small shop's message wait behind the big shop's
backlog? (issue 14, points 1 and 6)

    .venv/bin/python bench/fairness.py [--big 5000] [--rate 20] [--every 2] [--json PATH]

One transactional number is left enabled, at ``--rate`` segments per second; two
``crmhost worker`` processes send through the carrier simulator. The big shop asks the send
service for ``--big`` one-segment messages, all due at one moment (its send time is set far
enough ahead for every request to be accepted before it). From that moment, while they
drain, the small shop asks for a message due at once every ``--every`` seconds, as its staff
would. Figures, from the messages' history: the small shop's latency (due → Sent: p50, p95,
max), the big shop's drain time (due → its last Sent) against its ideal at the number's rate.
Goal: the small shop waits at most about one turn behind the other busy shop: max latency
≤ 3 / rate + 1 s. The script only uses the product's public ways to send (``service``,
``pools``), so it measures whatever scheduling the product has.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import select  # noqa: E402

from bench.common import Bench, phones, wait_for  # noqa: E402
from bench.figures import percentile, verdict, write_json  # noqa: E402
from bench.messages import history_times, settled, unsent  # noqa: E402
from host.extensions import db  # noqa: E402
from host.models import Company, Customer, utcnow  # noqa: E402
from plugins.sms_module.models import Queue, SmsMessage  # noqa: E402
from plugins.sms_module.models.statuses import Status  # noqa: E402
from plugins.sms_module.sending import pools, service  # noqa: E402

BIG_PHONES, SMALL_PHONES = 50, 5
WORKERS = 2
BODY = "Your car is ready. See you soon."  # one GSM segment


def one_number(rate: float) -> str:
    """Leave one transactional number enabled, at ``rate`` segments/s; return it."""
    numbers = pools.pool(Queue.TRANSACTIONAL)
    for other in numbers[1:]:
        pools.disable_number(other.number)
    pools.set_rate(numbers[0].number, str(rate))
    db.session.commit()
    return numbers[0].number


def shop(bench: Bench, first_phone: int, count: int) -> tuple[Company, list[Customer]]:
    company_id, ids = bench.shop_with_customers(phones(first_phone + count)[first_phone:])
    return db.session.get(Company, company_id), [db.session.get(Customer, i) for i in ids]


def run(bench: Bench, args) -> dict:
    number = one_number(args.rate)
    big, big_customers = shop(bench, 0, BIG_PHONES)
    small, small_customers = shop(bench, BIG_PHONES, SMALL_PHONES)
    for _ in range(WORKERS):
        bench.start_worker()
    bench.wait_workers_ready(WORKERS)
    # Untimed: each phone's first SMS (and its disclaimer), and a measure of one request.
    started = time.perf_counter()
    for company, customers in ((big, big_customers), (small, small_customers)):
        for customer in customers:
            service.request_send(company, customer=customer, body="Welcome")
    per_request = (time.perf_counter() - started) / (BIG_PHONES + SMALL_PHONES)
    wait_for(lambda: settled(bench.redis), 120, "the warm-up sends")

    due = utcnow() + timedelta(seconds=3 + 1.5 * per_request * args.big)
    big_ids = [
        service.request_send(
            big, customer=big_customers[i % BIG_PHONES], body=f"{BODY} {i}", send_at=due
        ).id
        for i in range(args.big)
    ]
    late = max(0.0, (utcnow() - due).total_seconds())
    threading.Event().wait(max(0.0, (due - utcnow()).total_seconds()))

    small_ids: list[int] = []
    deadline = time.monotonic() + args.big / args.rate * 2 + 60
    pause = threading.Event()
    while time.monotonic() < deadline:
        customer = small_customers[len(small_ids) % SMALL_PHONES]
        small_ids.append(service.request_send(small, customer=customer, body=BODY).id)
        pause.wait(args.every)
        left = unsent(big_ids)
        if left == 0:
            break
    complete = unsent(big_ids) == 0
    wait_for(lambda: unsent(small_ids) == 0, 60, "the small shop's last messages")
    bench.stop_workers()

    db.session.expire_all()
    big_sent = history_times(big_ids, Status.SENT)
    small_sent = history_times(small_ids, Status.SENT)
    small_due = {
        m.id: m.send_at or m.created_at
        for m in db.session.scalars(select(SmsMessage).where(SmsMessage.id.in_(small_ids)))
    }
    waits = sorted(
        (small_sent[i] - small_due[i]).total_seconds() for i in small_ids if i in small_sent
    )
    over_time = [
        [
            round((small_due[i] - due).total_seconds(), 2),
            (small_sent[i] - small_due[i]).total_seconds(),
        ]
        for i in sorted(small_ids)
        if i in small_sent
    ]
    drain = (max(big_sent.values()) - due).total_seconds() if big_sent else float("nan")
    return {
        "number": number,
        "waits": waits,
        "over_time": over_time,
        "drain": drain,
        "complete": complete,
        "late": late,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--big", type=int, default=5000, help="the big shop's messages")
    parser.add_argument("--rate", type=float, default=20, help="the number's segments/s")
    parser.add_argument("--every", type=float, default=2, help="seconds between small sends")
    parser.add_argument("--json", help="write the figures there as JSON")
    args = parser.parse_args()
    bench = Bench()
    print(
        f"Fairness: one number at {args.rate:g} segments/s, {WORKERS} workers; the big shop's "
        f"{args.big} messages due at once, the small shop's one every {args.every:g} s — "
        f"{bench.describe()}"
    )
    try:
        with bench.app.app_context():
            found = run(bench, args)
    finally:
        bench.close()
    waits, goal = found["waits"], 3 / args.rate + 1
    ideal = args.big / args.rate
    worst = waits[-1] if waits else float("inf")
    met = bool(waits) and worst <= goal and found["complete"]
    p50, p95 = (percentile(waits, 0.5), percentile(waits, 0.95)) if waits else (0.0, 0.0)
    print(f"  number {found['number']}; small shop: {len(waits)} messages")
    print(f"  small shop latency (due → Sent): p50 {p50:.2f} s, p95 {p95:.2f} s, max {worst:.2f} s")
    print(
        f"  big shop drain: {found['drain']:.1f} s for {args.big} messages "
        f"(ideal at the number's rate {ideal:.1f} s){'' if found['complete'] else ' INCOMPLETE'}"
    )
    if found["late"]:
        print(f"  (accepting the big shop's messages ran {found['late']:.1f} s past their due)")
    print(f"  goal: small shop's max latency ≤ 3/rate + 1 = {goal:.2f} s — {verdict(met)}")
    write_json(
        "fairness",
        f"small shop's max latency ≤ 3/rate + 1 s ({goal:.2f} s) while the big shop drains",
        met,
        {
            "small shop max latency (s)": worst,
            "small shop p50 latency (s)": p50,
            "small shop p95 latency (s)": p95,
            "small shop messages": len(waits),
            "big shop messages": args.big,
            "big shop drain (s)": found["drain"],
            "big shop ideal drain (s)": ideal,
        },
        {"small shop latency over time (s)": {"small shop": found["over_time"]}},
        path=args.json,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
