"""Webhooks at the speed of the bare endpoint (issue 14, point 5): each callback and each
reply is the fewest SQL statements that keep "never backwards" and "stored once" (one on
PostgreSQL, two on SQLite, counted by a SQLAlchemy listener), and they still hold when the
carrier's posts race each other."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, text

from host.extensions import db
from plugins.sms_module import jobs
from plugins.sms_module.carriers.webhooks import signature_for
from plugins.sms_module.conversations import forwarding, inbound_store
from plugins.sms_module.models import SmsStatusChange, Status
from tests.sms_module.conversations.support import PATH, forward_job, inbound_messages, sent_to
from tests.support_pipeline import accepted_message, history, in_process_app, message, post_report


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app)


def per_request(app) -> int:
    """The statements one webhook costs: 1 on PostgreSQL (one statement, its own
    transaction), 2 on SQLite (no data-modifying CTE)."""
    with app.app_context():
        return 1 if db.engine.dialect.name == "postgresql" else 2


@contextmanager
def counted(app):
    """Collect the SQL statements the app's engine runs meanwhile."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def note(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def sent(app, shops) -> tuple[int, str]:
    with app.app_context():
        mid = accepted_message(shops)
        assert jobs.send_message(mid) == "sent"
        return mid, message(mid).provider_sid


def post_reply(client, app, sid: str, phone: str, to: str, body: str = "Thanks!"):
    """Post a customer's SMS signed like the carrier's (the webhook alone: no sweeper)."""
    url = app.config["SMS_PUBLIC_BASE_URL"].rstrip("/") + PATH
    params = {"MessageSid": sid, "From": phone, "To": to, "Body": body}
    signature = signature_for(app.config["SMS_SIMULATOR_AUTH_TOKEN"], url, params)
    return client.post(PATH, data=params, headers={"X-Twilio-Signature": signature})


def test_a_callback_is_one_statement_moving_or_not(app, shops):
    mid, sid = sent(app, shops)
    client = app.test_client()
    for status in ("delivered", "sent", "delivered", "failed"):  # moves, then late ones
        with counted(app) as statements:
            assert post_report(client, app, mid, sid, status).status_code == 200
        assert len(statements) == per_request(app), statements
    with app.app_context():
        found = message(mid)
        assert found.status == Status.DELIVERED and found.failure_code is None
        assert history(found).count("delivered") == 1


def test_a_failure_report_writes_its_code_in_the_same_statement(app, shops):
    mid, sid = sent(app, shops)
    with counted(app) as statements:
        post_report(app.test_client(), app, mid, sid, "undelivered", ErrorCode="30003")
    assert len(statements) == per_request(app)
    with app.app_context():
        found = message(mid)
        assert (found.status, found.failure_code, found.failure_reason) == (
            Status.UNDELIVERED,
            "30003",
            "30003",
        )
        assert found.history[-1].detail == "carrier_status: undelivered"


def test_a_reply_is_one_statement_and_gets_its_forward_from_the_sweeper(app, shops):
    with app.app_context():
        ours = sent_to(shops)
    client = app.test_client()
    with counted(app) as statements:
        answer = post_reply(client, app, "SMfast", ours.phone, ours.sender_number)
    assert answer.status_code == 200
    assert len(statements) == per_request(app), statements
    with counted(app) as statements:  # the carrier's retry: the insert finds the SID kept
        assert post_reply(client, app, "SMfast", ours.phone, ours.sender_number).status_code == 200
    assert len(statements) == 2  # the insert that did nothing, the kept row's id
    with app.app_context():
        (reply,) = inbound_messages()
        assert (reply.company_id, reply.customer_id) == (shops["a"]["shop"], shops["a"]["customer"])
        assert history(reply) == ["receiving", "received"]
        assert reply.history[-1].detail == f"received_on: {ours.sender_number}"
        # The row is the outbox: no Redis in the request, the sweeper gives the job.
        assert forward_job(reply.id) is None
        assert forwarding.sweep_forwards(grace_seconds=0) == 1
        assert forward_job(reply.id) is not None


def test_a_report_on_a_message_our_record_has_not_handed_over_goes_through_sending(app, shops):
    with app.app_context():
        mid = accepted_message(shops)  # Queued: its worker has not taken it yet
        found = message(mid)
        found.provider_sid = "SMahead"  # recorded by a path that had not moved it yet
        db.session.commit()
    assert post_report(app.test_client(), app, mid, "SMahead", "delivered").status_code == 200
    with app.app_context():
        found = message(mid)
        assert found.status == Status.DELIVERED
        assert history(found)[-2:] == ["sending", "delivered"]


def race(app, posts) -> list[int]:
    """Run each of ``posts`` (a callable taking a test client) in a thread of its own, all
    released at once; return their HTTP statuses."""
    start = threading.Barrier(len(posts))
    statuses = [0] * len(posts)

    def run(index, post) -> None:
        client = app.test_client()
        start.wait()
        statuses[index] = post(client).status_code

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_racing_reports_leave_one_final_status_never_moved_back(app, shops):
    messages = [sent(app, shops) for _ in range(4)]
    for mid, sid in messages:
        posts = [
            lambda c, s=status, m=mid, i=sid: post_report(c, app, m, i, s, ErrorCode="30008")
            for status in ("delivered", "failed", "sent", "undelivered", "delivered")
        ]
        assert race(app, posts) == [200] * len(posts)
    with app.app_context():
        for mid, _sid in messages:
            found = message(mid)
            finals = [s for s in history(found) if s in ("delivered", "failed", "undelivered")]
            assert finals == [found.status.value]  # one final step, the one it is in
            assert (found.failure_code is None) == (found.status == Status.DELIVERED)


def test_a_reply_delivered_twice_at_once_is_kept_once(app, shops):
    with app.app_context():
        ours = sent_to(shops)
    posts = [lambda c: post_reply(c, app, "SMtwice", ours.phone, ours.sender_number)] * 3
    assert race(app, posts) == [200, 200, 200]
    with app.app_context():
        (reply,) = inbound_messages()
        steps = db.session.scalar(
            select(func.count()).where(SmsStatusChange.message_id == reply.id)
        )
        assert steps == 2


def test_routing_takes_one_step_on_the_phone_and_number_index(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL picks its plan by the table's size: see bench/webhooks.py")
        query = select(inbound_store.shop_of("+15145550101", "+14386013562"))
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
    (messages,) = [row for row in plan if "SEARCH sms_message " in row[3]]
    assert "USING INDEX ix_sms_message_phone_sender_number_id" in messages[3]
    # No sort of the phone's messages: the index gives the last one first. (The fallback,
    # a phone's few conversation rows, may sort.)
    assert not [row for row in plan if row[1] == messages[1] and "TEMP B-TREE" in row[3]]
