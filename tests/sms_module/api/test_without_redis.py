"""The API with Redis away (issue 15, point 1): a send is answered 201 once it is committed,
a retry with its Idempotency-Key gets the same message, and the sweeper queues it when
Redis is back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from host.extensions import db
from plugins.sms_module import jobs
from plugins.sms_module.api import tokens
from plugins.sms_module.models import Kind, SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import outbox
from tests.sms_module.api.test_views import check
from tests.support_sms import ready_to_send

URL = "/api/v1/sms/messages"
REDIS_DOWN = "redis://127.0.0.1:1/0"  # nothing listens there


@pytest.fixture
def token(app, shops):
    """Shop A ready to send (its customer never got the disclaimer); a token of shop A."""
    with app.app_context():
        ready_to_send(shops, disclaimed=False)
        _row, text = tokens.create_token(shops["a"]["shop"], "garage software", None)
    return text


def post(client, token: str, payload: dict, key: str | None = None):
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return client.post(URL, json=payload, headers=headers)


def api_messages() -> list[SmsMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(SmsMessage).where(SmsMessage.kind == Kind.API)))


def test_a_send_while_redis_is_down_is_committed_answered_201_and_queued_later(
    app, make_app, shops, token
):
    down = make_app(REDIS_URL=REDIS_DOWN).test_client()
    payload = {"customer_id": shops["a"]["customer"], "body": "Votre auto est prete"}
    first = check(post(down, token, payload, key="order-7"), 201, "Created")
    assert first["status"] == "scheduled"  # committed; its job waits for Redis
    # The client timed out and retries with its key: the same message, not a second one.
    again = check(post(down, token, payload, key="order-7"), 200, "Created")
    assert again["id"] == first["id"]
    reused = post(down, token, {**payload, "body": "Autre chose"}, key="order-7")
    assert check(reused, 422, "Error")["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        [message] = api_messages()
        assert (message.id, message.status) == (first["id"], Status.SCHEDULED)
        assert outbox.live_job(message.id) is None
        # Redis is back: the sweeper gives the message its job.
        jobs.sweep()
        assert outbox.live_job(message.id) is not None
        assert api_messages()[0].status == Status.QUEUED
        jobs.sweep()
        assert len(api_messages()) == 1


def test_the_first_text_to_a_phone_while_redis_is_down_gets_its_disclaimer_later(
    app, make_app, shops, token
):
    # The disclaimer's writing lease lives in Redis: away, the send is still accepted, and
    # the send job writes the disclaimer first (PRODUCT.md §5).
    down = make_app(REDIS_URL=REDIS_DOWN).test_client()
    payload = {"customer_id": shops["a"]["customer"], "body": "Bonjour"}
    created = check(post(down, token, payload), 201, "Created")
    with app.app_context():
        count = select(func.count()).where(SmsMessage.kind == "disclaimer")
        assert db.session.scalar(count) == 0
        jobs.sweep()
        jobs.send_message(created["id"])  # waits for the disclaimer it writes
        assert db.session.scalar(count) == 1
        db.session.expire_all()
        assert db.session.get(SmsMessage, created["id"]).status != Status.SENT
