"""The operator's queues page and ``/metrics`` (issue 4 point 11)."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete

from host.extensions import db
from host.models import utcnow
from host.redis_connection import get_redis
from plugins.sms_module.carriers.simulator import SimulatorCarrier
from plugins.sms_module.models import Queue, SenderNumber
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import pools
from tests.sms_module.sending.support import FIRST, OPERATOR, PROMOTIONAL, add
from tests.support_pages import page_text
from tests.support_sms import login_en

S = Status
TOKEN = "s3cret-metrics-token"


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


def test_refusals_are_shown_and_scraped_apart_from_failures(client, app, shops):
    with app.app_context():
        now = utcnow()
        add(shops, S.FAILED, failure_code="21610", steps=[(S.FAILED, now)])
        add(shops, S.FAILED, failure_code="no_consent", steps=[(S.FAILED, now)])
    login_en(client, OPERATOR)
    page = client.get("/sms/operations/").get_data(as_text=True)
    failures, refusals = page.split('id="failures"')[1].split('id="refusals"')
    assert 'data-code="21610"' in failures and "no_consent" not in failures
    assert 'data-code="no_consent"' in refusals and "21610" not in refusals
    m = families(scrape(client))
    assert set(m["sms_messages_failed"]) == {
        (("code", "21610"), ("window", "1h")),
        (("code", "21610"), ("window", "24h")),
    }
    assert m["sms_messages_refused"] == {
        (("code", "no_consent"), ("window", "1h")): 1,
        (("code", "no_consent"), ("window", "24h")): 1,
    }


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


def test_the_intro_says_a_queued_message_held_for_the_night_is_scheduled_later(client, app, shops):
    """A Queued message whose send time is ahead (held for the night) is counted under
    "Scheduled later", not in the backlog: the page's intro says so, in English and French."""
    with app.app_context():
        add(shops, S.QUEUED, segments=2, due=utcnow() + timedelta(hours=9))
    login_en(client, OPERATOR)
    page = page_text(client.get("/sms/operations/"))
    assert 'id="queue-transactional" data-messages="0"' in page
    row = page[page.index('id="queue-transactional"') :]
    later = re.findall(r"<td>\s*(\d+)\s*</td>", row[: row.index("</tr>")])[-2:]
    assert later == ["1", "2"]  # Scheduled later: the message, its segments
    intro = page[page.index("<h1>") : page.index("<h2>")]
    assert "scheduled and due, queued or sending" not in intro
    assert (
        "The backlog is what is due: the messages whose send time has come, scheduled or "
        "queued, and those being sent. A message whose send time is ahead, even queued (held "
        "for the night), is counted under “Scheduled later”." in intro
    )
    client.get("/language/fr")
    intro = page_text(client.get("/sms/operations/"))
    intro = intro[intro.index("<h1>") : intro.index("<h2>")]
    assert (
        "L'arriéré est ce qui est dû : les messages dont l'heure d'envoi est arrivée, "
        "planifiés ou en file, et ceux en cours d'envoi. Un message dont l'heure d'envoi est "
        "à venir, même en file (retenu pour la nuit), est compté dans « Planifiés plus tard »."
        in intro
    )
