"""The operator's queue figures, the queues page and ``/metrics`` (issue 4 point 11)."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, select

from host.extensions import db
from host.models import utcnow
from host.redis_connection import get_redis
from plugins.sms_module.carriers.simulator import SimulatorCarrier
from plugins.sms_module.models import Queue, SenderNumber, SmsMessage, SmsStatusChange
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import monitoring, pools
from tests.support_pipeline import accepted_message, message
from tests.support_sms import login_en

S = Status
OPERATOR = "operator@example.com"
TOKEN = "s3cret-metrics-token"
PROMOTIONAL = ["+14386013549", "+14386013643"]
FIRST = "+14386013562"  # first transactional number


def add(shops, status, *, segments=1, queue=Queue.TRANSACTIONAL, due=None, steps=(), **fields):
    """Store a message in ``status`` with history ``steps`` [(status, at)]; return its id."""
    row = SmsMessage(
        company_id=shops["a"]["shop"],
        customer_id=shops["a"]["customer"],
        phone="+15145550101",
        body="x" * segments,
        queue=queue,
        status=status,
        segments=segments,
        send_at=due or utcnow(),
        **fields,
    )
    row.history = [SmsStatusChange(status=s, at=at, source="module") for s, at in steps]
    db.session.add(row)
    db.session.commit()
    return row.id


def families(text: str) -> dict[str, dict[tuple, float]]:
    """Parse Prometheus text into {sample name: {sorted labels: value}}."""
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def scrape(client, **headers) -> str:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


def test_backlog_counts_segments_and_drain_time(app, shops):
    with app.app_context():
        now = utcnow()
        accepted = accepted_message(shops)  # the real path: Scheduled, due, then Queued
        assert message(accepted).status == S.QUEUED and message(accepted).segments == 1
        # The real path may queue more than the message (a first-SMS disclaimer): count it all.
        stored = db.session.scalars(select(SmsMessage)).all()
        queued = [m for m in stored if m.status in (S.QUEUED, S.SENDING)]
        assert all(m.status != S.SCHEDULED for m in stored)
        base = (len(queued), sum(m.segments for m in queued))
        add(shops, S.QUEUED, segments=3)
        add(shops, S.SENDING, segments=2)
        add(shops, S.SCHEDULED, segments=1, due=now - timedelta(seconds=30))
        add(shops, S.SCHEDULED, segments=4, due=now + timedelta(hours=1))
        add(shops, S.SCHEDULED, segments=2, due=now + timedelta(days=1))
        for done in (S.SENT, S.DELIVERED, S.FAILED, S.CANCELED, S.UNDELIVERED):
            add(shops, done, segments=7)
        add(shops, S.QUEUED, segments=5, queue=Queue.PROMOTIONAL)
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


def test_metrics_parse_and_match_the_figures(client, app, shops):
    with app.app_context():
        now = utcnow()
        add(shops, S.QUEUED, segments=3)
        add(shops, S.SENDING, segments=3)
        add(shops, S.SENT, sender_number=FIRST, steps=[(S.SENT, now - timedelta(minutes=1))])
        add(shops, S.FAILED, failure_code="21211", steps=[(S.FAILED, now - timedelta(minutes=1))])
        due = now - timedelta(minutes=2)
        add(shops, S.SENT, due=due, steps=[(S.SENDING, due + timedelta(seconds=4))])
        pools.get_number(FIRST).last_sent_at = now
        db.session.commit()
        for number in PROMOTIONAL:
            pools.disable_number(number)
        # Two sends within a second on a 1 segment/s number: the simulator records a breach.
        carrier = SimulatorCarrier(get_redis(), None, "simulator")
        for _ in range(2):
            carrier.send(to="+15145550101", from_=FIRST, body="hi", status_callback="http://x/")

    login_en(client, OPERATOR)
    text = scrape(client)
    m = families(text)
    tx, promo = (("queue", "transactional"),), (("queue", "promotional"),)
    assert m["sms_queue_backlog_messages"] == {tx: 2, promo: 0}
    assert m["sms_queue_backlog_segments"] == {tx: 6, promo: 0}
    assert m["sms_queue_capacity_segments_per_second"] == {tx: 6, promo: 0}
    assert m["sms_queue_drain_seconds"] == {tx: 1.0, promo: 0}
    key = (("number", FIRST), ("queue", "transactional"))
    assert m["sms_sender_rate_segments_per_second"][key] == 1
    assert m["sms_sender_enabled"][(("number", PROMOTIONAL[0]), ("queue", "promotional"))] == 0
    assert m["sms_sender_last_send_timestamp_seconds"] == {key: pytest.approx(now.timestamp())}
    assert m["sms_sender_sent_messages_last_hour"][key] == 1
    assert m["sms_messages_failed"] == {
        (("code", "21211"), ("window", "1h")): 1,
        (("code", "21211"), ("window", "24h")): 1,
    }
    latency = m["sms_send_latency_seconds"]
    for q in ("0.5", "0.95", "0.99"):
        assert latency[(("quantile", q), ("stage", "due_to_sending"))] == pytest.approx(4.0)
    assert (("quantile", "0.5"), ("stage", "sending_to_sent")) not in latency  # no sample
    assert m["sms_send_latency_samples"][(("stage", "sending_to_sent"),)] == 0
    assert m["sms_simulator_rate_breaches_total"][key] == 1
    assert m["sms_redis_up"] == {(): 1}
    # Nothing names a shop, a customer or a recipient.
    assert "Garage" not in text and "+15145550101" not in text and "company" not in text

    with app.app_context():
        for number in PROMOTIONAL:
            pools.enable_number(number)
        add(shops, S.QUEUED, segments=1, queue=Queue.PROMOTIONAL)
        for number in PROMOTIONAL:
            pools.disable_number(number)
    assert families(scrape(client))["sms_queue_drain_seconds"][promo] == math.inf


def test_metrics_access(client, make_app, app, shops):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").headers["WWW-Authenticate"].startswith("Bearer")
    # No token configured: a bearer header is refused, never taken as "no token needed".
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    for user in (shops["a"]["staff"], shops["a"]["admin"]):
        login_en(client, user)
        assert client.get("/metrics").status_code == 403
        client.post("/logout")
    login_en(client, OPERATOR)
    assert "sms_queue_backlog_messages" in scrape(client)

    guarded = make_app(SMS_METRICS_TOKEN=TOKEN).test_client()
    assert "sms_queue_backlog_messages" in scrape(guarded, Authorization=f"Bearer {TOKEN}")
    for wrong in (f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer", TOKEN):
        assert guarded.get("/metrics", headers={"Authorization": wrong}).status_code == 401
    assert guarded.get("/metrics").status_code == 401


def test_page_is_operator_only(client, shops):
    assert client.get("/sms/operations/").status_code == 302  # to the login page
    for user in (shops["a"]["staff"], shops["a"]["admin"]):
        login_en(client, user)
        assert client.get("/sms/operations/").status_code == 403
        assert "SMS queues" not in client.get("/").get_data(as_text=True)
        client.post("/logout")
    login_en(client, OPERATOR)
    assert "/sms/operations/" in client.get("/").get_data(as_text=True)
    assert client.get("/sms/operations/").status_code == 200


def test_page_shows_the_figures(client, app, shops):
    with app.app_context():
        now = utcnow()
        add(shops, S.QUEUED, segments=3)
        add(shops, S.SCHEDULED, segments=2, due=now + timedelta(hours=2))
        add(shops, S.FAILED, failure_code="21610", steps=[(S.FAILED, now)])
        for number in PROMOTIONAL:
            pools.disable_number(number)
        add(shops, S.QUEUED, segments=2, queue=Queue.PROMOTIONAL)
    login_en(client, OPERATOR)
    page = client.get("/sms/operations/").get_data(as_text=True)
    assert 'id="queue-transactional" data-messages="1" data-segments="3" data-drain="0.5"' in page
    assert "never: no enabled number" in page  # the promotional pool is all disabled
    assert 'data-code="21610"' in page and "Rate breaches (simulator)" in page
    assert page.count("data-number=") == 8
    client.get("/language/fr")
    assert client.get("/sms/operations/").status_code == 200


def test_pages_render_with_no_data_at_all(client, app, shops):
    with app.app_context():
        db.session.execute(delete(SenderNumber))
        db.session.commit()
    login_en(client, OPERATOR)
    page = client.get("/sms/operations/")
    assert page.status_code == 200
    assert "No sender number yet." in page.get_data(as_text=True)
    assert "No message failed in the last 24 hours." in page.get_data(as_text=True)
    m = families(scrape(client))
    assert m["sms_queue_backlog_messages"] == {
        (("queue", "transactional"),): 0,
        (("queue", "promotional"),): 0,
    }
    assert m["sms_queue_drain_seconds"][(("queue", "transactional"),)] == 0
    assert "sms_sender_rate_segments_per_second" not in m


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
