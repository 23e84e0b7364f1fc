"""The operator's queue figures: backlog and drain time, latencies, failures, numbers."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import select

from host.extensions import db
from host.models import utcnow
from plugins.sms_module.models import Queue, SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import monitoring, pools
from tests.sms_module.sending.support import FIRST, OPERATOR, PROMOTIONAL, add
from tests.support_pipeline import accepted_message, message
from tests.support_sms import login_en

S = Status


def test_backlog_counts_segments_and_drain_time(app, shops):
    with app.app_context():
        accepted = accepted_message(shops)  # the real path: Scheduled, due, then Queued
        assert message(accepted).status == S.QUEUED and message(accepted).segments == 1
        now = utcnow()  # after the accepted message's send time: it is due
        # The real path may queue more than the message (a first-SMS disclaimer): count it all.
        stored = db.session.scalars(select(SmsMessage)).all()
        queued = [m for m in stored if m.status in (S.QUEUED, S.SENDING)]
        assert all(m.status != S.SCHEDULED for m in stored)
        base = (len(queued), sum(m.segments for m in queued))
        add(shops, S.QUEUED, segments=3, due=now)
        add(shops, S.SENDING, segments=2, due=now + timedelta(hours=2))  # Sending: due anyway
        add(shops, S.SCHEDULED, segments=1, due=now - timedelta(seconds=30))
        add(shops, S.SCHEDULED, segments=4, due=now + timedelta(hours=1))
        add(shops, S.SCHEDULED, segments=2, due=now + timedelta(days=1))
        for done in (S.SENT, S.DELIVERED, S.FAILED, S.CANCELED, S.UNDELIVERED):
            add(shops, done, segments=7)
        add(shops, S.QUEUED, segments=5, queue=Queue.PROMOTIONAL, due=now)
        # Transactional capacity: 4 numbers at 1, one at 2.5, one disabled → 6.5 segments/s.
        numbers = [n.number for n in pools.pool(Queue.TRANSACTIONAL)]
        pools.set_rate(numbers[0], "2.5")
        pools.disable_number(numbers[1])
        for number in PROMOTIONAL:
            pools.disable_number(number)

        figures = {q.queue: q for q in monitoring.snapshot(now).queues}
        tx, promo = figures[Queue.TRANSACTIONAL], figures[Queue.PROMOTIONAL]
        due_segments = base[1] + 3 + 2 + 1
        assert (tx.due_messages, tx.due_segments) == (base[0] + 3, due_segments)
        assert (tx.later_messages, tx.later_segments) == (2, 6)
        assert tx.capacity == 6.5
        assert tx.drain_seconds == pytest.approx(due_segments / 6.5)
        assert tx.drain_at == now + timedelta(seconds=due_segments / 6.5)
        assert (promo.due_messages, promo.due_segments, promo.capacity) == (1, 5, 0)
        assert math.isinf(promo.drain_seconds) and promo.drain_at is None

        pools.enable_number(PROMOTIONAL[0])
        promo = monitoring.snapshot(now).queues[1]
        assert promo.queue == Queue.PROMOTIONAL and promo.drain_seconds == 5.0


def test_latency_quantiles_from_the_status_history(app, shops):
    with app.app_context():
        now = utcnow()
        due = now - timedelta(minutes=50)
        for i in range(1, 21):  # due → Sending took 1..20 s; Sending → Sent 0.1..2.0 s
            sending = due + timedelta(seconds=i)
            add(
                shops,
                S.SENT,
                due=due,
                steps=[
                    (S.SCHEDULED, due),
                    (S.QUEUED, due),
                    (S.SENDING, sending),
                    (S.SENT, sending + timedelta(seconds=i / 10)),
                ],
            )
        # A retried message: due → first Sending 3 s; Sent 1 s after its last attempt.
        add(
            shops,
            S.SENT,
            due=due,
            steps=[
                (S.SENDING, due + timedelta(seconds=3)),
                (S.SENDING, due + timedelta(seconds=600)),
                (S.SENT, due + timedelta(seconds=601)),
            ],
        )
        # First Sending before the window: its retry inside the window is no new sample.
        old = now - timedelta(hours=2)
        add(shops, S.SENDING, due=old, steps=[(S.SENDING, old), (S.SENDING, now)])

        stages = {s.stage: s for s in monitoring.snapshot(now).latencies}
        first = stages["due_to_sending"]
        # 21 samples: 1..20 and 3. Nearest rank: p50 = 11th = 10, p95 = 20th = 19, p99 = 20.
        assert first.samples == 21
        assert first.quantiles == {0.5: 10.0, 0.95: 19.0, 0.99: 20.0}
        sent = stages["sending_to_sent"]
        assert sent.samples == 21  # 0.1..2.0 and 1.0
        assert sent.quantiles[0.5] == pytest.approx(1.0)
        assert sent.quantiles[0.95] == pytest.approx(1.9)
        assert sent.quantiles[0.99] == pytest.approx(2.0)


def test_failures_by_code_and_window(app, shops):
    with app.app_context():
        now = utcnow()
        for code, status, ago in [
            ("21610", S.FAILED, timedelta(minutes=10)),
            ("21610", S.FAILED, timedelta(minutes=50)),
            ("30003", S.UNDELIVERED, timedelta(hours=3)),
            (None, S.FAILED, timedelta(minutes=5)),
            ("30008", S.FAILED, timedelta(days=2)),  # too old for either window
        ]:
            add(shops, status, failure_code=code, steps=[(status, now - ago)])
        add(shops, S.DELIVERED, steps=[(S.DELIVERED, now)])
        assert monitoring.failure_counts(now) == {
            "1h": {"21610": 2, "none": 1},
            "24h": {"21610": 2, "30003": 1, "none": 1},
        }


def test_refusals_are_counted_apart_from_the_carriers_failures(app, shops):
    # Issue 11, point 5: a rule's refusal is no failure of the pipeline.
    with app.app_context():
        now = utcnow()
        minutes = timedelta(minutes=5)
        add(shops, S.FAILED, failure_code="30003", steps=[(S.FAILED, now - minutes)])
        add(shops, S.FAILED, failure_code="carrier_error", steps=[(S.FAILED, now - minutes)])
        for code in ("no_consent", "opted_out", "opted_out"):
            add(shops, S.FAILED, failure_code=code, steps=[(S.FAILED, now - minutes)])
        add(shops, S.FAILED, failure_code="module_off", steps=[(S.FAILED, now - 3 * 60 * minutes)])
        assert monitoring.failure_counts(now) == {
            "1h": {"30003": 1, "carrier_error": 1},
            "24h": {"30003": 1, "carrier_error": 1},
        }
        assert monitoring.failure_counts(now, refusals=True) == {
            "1h": {"no_consent": 1, "opted_out": 2},
            "24h": {"no_consent": 1, "opted_out": 2, "module_off": 1},
        }
        figures = monitoring.snapshot(now)
        assert figures.refusals == monitoring.failure_counts(now, refusals=True)


def test_sender_numbers_rate_last_send_and_sent_last_hour(app, shops):
    with app.app_context():
        now = utcnow()
        for segments, ago in [(1, 5), (3, 30), (2, 90)]:  # minutes ago; the last is too old
            add(
                shops,
                S.DELIVERED,
                segments=segments,
                sender_number=FIRST,
                steps=[(S.SENT, now - timedelta(minutes=ago))],
            )
        number = pools.get_number(FIRST)
        number.last_sent_at = now - timedelta(minutes=5)
        db.session.commit()
        rows = {n.number: n for n in monitoring.sender_figures(now)}
        assert len(rows) == 8
        first = rows[FIRST]
        assert (first.queue, first.rate, first.enabled) == (Queue.TRANSACTIONAL, 1.0, True)
        assert (first.sent_messages, first.sent_segments) == (2, 4)
        assert first.last_sent_at == now - timedelta(minutes=5)
        assert rows[PROMOTIONAL[0]].last_sent_at is None
        assert rows[PROMOTIONAL[0]].sent_messages == 0


def test_figures_without_redis_or_the_simulator(make_app, app, shops):
    down = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    with down.app_context():
        figures = monitoring.snapshot()
        assert figures.simulator and not figures.redis_up and figures.breaches is None
    twilio = make_app(SMS_PROVIDER="twilio")
    with twilio.app_context():
        figures = monitoring.snapshot()
        assert not figures.simulator and figures.breaches is None
        assert all(n.breaches is None for n in figures.numbers)
    with down.test_client() as client:
        login_en(client, OPERATOR)
        assert "Redis did not answer" in client.get("/sms/operations/").get_data(as_text=True)
