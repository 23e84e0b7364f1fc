"""Latency from due to Sending with no backlog: p50 and p99, for one running worker.

Two kinds of message, one ``crmhost worker`` running, nothing else queued:

* due at once (a staff SMS): accepted one at a time, each after the previous one is Sending;
* due later (a reminder): each scheduled 2 s ahead, one every 0.3 s, so none waits for another;
  RQ's scheduler moves it onto the queue when due.

Latency is the Sending row of the message's history minus its ``send_at``. Every phone has
had its first SMS (and disclaimer) before the timed part. Issue 4 sets no number for this
goal: the figures are the result.

    .venv/bin/python bench/latency.py            # BENCH_MESSAGES=100 of each kind by default
"""

from __future__ import annotations

import os
import sys
import threading
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import select, update  # noqa: E402

from bench.common import Bench, phones, wait_for  # noqa: E402
from bench.figures import percentile  # noqa: E402
from bench.messages import history_times, settled, status_counts  # noqa: E402
from host.extensions import db  # noqa: E402
from host.models import Company, Customer, utcnow  # noqa: E402
from plugins.sms_module.models import SenderNumber, SmsMessage  # noqa: E402
from plugins.sms_module.models.statuses import Status  # noqa: E402
from plugins.sms_module.sending import service  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "100"))
PHONES = 10
LEAD, SPACING = 2.0, 0.3


def sending_started(message_id: int) -> bool:
    """Say whether the message reached Sending (or beyond)."""
    db.session.expire_all()
    reached = db.session.scalar(
        select(SmsMessage.id).where(
            SmsMessage.id == message_id,
            SmsMessage.status.in_([Status.SENDING, Status.SENT, Status.DELIVERED]),
        )
    )
    db.session.commit()  # a fresh snapshot next time (PostgreSQL)
    return reached is not None


def latencies(ids: list[int]) -> list[float]:
    """Return each message's seconds from ``send_at`` to its Sending row."""
    sending = history_times(ids, Status.SENDING)
    due = dict(
        db.session.execute(
            select(SmsMessage.id, SmsMessage.send_at).where(SmsMessage.id.in_(ids))
        ).all()
    )
    return sorted((sending[i] - due[i]).total_seconds() for i in ids)


def show(name: str, values: list[float]) -> None:
    print(
        f"  {name:22} p50 {1000 * percentile(values, 0.5):7.1f} ms   "
        f"p99 {1000 * percentile(values, 0.99):7.1f} ms   "
        f"min {1000 * values[0]:6.1f}  max {1000 * values[-1]:7.1f} ms  (n={len(values)})"
    )


def main() -> int:
    bench = Bench()
    print(f"Latency, due → Sending, one worker, no backlog — {bench.describe()}")
    try:
        with bench.app.app_context():
            db.session.execute(update(SenderNumber).values(rate=1000))
            db.session.commit()
            shop_id, customer_ids = bench.shop_with_customers(phones(PHONES))
            company = db.session.get(Company, shop_id)
            customers = [db.session.get(Customer, cid) for cid in customer_ids]
            bench.start_worker()
            bench.wait_workers_ready(1)
            for customer in customers:  # untimed: first SMS and disclaimer of each phone
                service.request_send(company, customer=customer, body="Welcome")
            wait_for(lambda: settled(bench.redis), 60, "the warm-up sends")

            now_ids = []
            for i in range(MESSAGES):
                message = service.request_send(
                    company, customer=customers[i % PHONES], body=f"Your car is ready ({i})"
                )
                now_ids.append(message.id)
                wait_for(lambda m=message.id: sending_started(m), 30, "Sending")

            start = utcnow() + timedelta(seconds=LEAD)
            later_ids = [
                service.request_send(
                    company,
                    customer=customers[i % PHONES],
                    body=f"Reminder: your appointment ({i})",
                    send_at=start + timedelta(seconds=SPACING * i),
                ).id
                for i in range(MESSAGES)
            ]
            behind = (utcnow() - start).total_seconds()
            last_due = start + timedelta(seconds=SPACING * (MESSAGES - 1))
            threading.Event().wait(max(0.0, (last_due - utcnow()).total_seconds()))
            wait_for(lambda: status_counts(later_ids) == {Status.SENT: MESSAGES}, 60, "reminders")
            now, later = latencies(now_ids), latencies(later_ids)
            show("due at once", now)
            show("due later (scheduled)", later)
            from bench.figures import write_json  # --json PATH: the figures for run_all.py

            points = {f"p{round(q * 100)}": q for q in (0.5, 0.9, 0.95, 0.99)}
            write_json(
                "latency",
                "none (issue 4): the figures are the result",
                True,
                {f"{k} due at once (ms)": 1000 * percentile(now, q) for k, q in points.items()}
                | {f"{k} scheduled (ms)": 1000 * percentile(later, q) for k, q in points.items()},
                {
                    "latency percentiles (ms)": {
                        "due at once": [
                            [100 * q, 1000 * percentile(now, q)] for q in points.values()
                        ],
                        "scheduled": [
                            [100 * q, 1000 * percentile(later, q)] for q in points.values()
                        ],
                    }
                },
            )
            if behind > 0:
                print(f"  (scheduling the reminders ran {behind:.2f} s past the first one's due)")
    finally:
        bench.close()
    print("  goal: issue 4 sets none for latency; these are the figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
