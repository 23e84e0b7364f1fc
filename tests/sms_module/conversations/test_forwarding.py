"""Replies forwarded to the shop (PRODUCT.md §9) by e-mail, through a real SMTP server, or
by SMS; retried, swept, never lost."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from host.extensions import db
from host.redis_connection import get_redis
from plugins.sms_module import jobs
from plugins.sms_module.conversations import forwarding
from plugins.sms_module.models import Kind, SmsMessage
from tests.sms_module.conversations.support import (
    forward_job,
    forward_settings,
    inbound_messages,
    post_inbound,
    sent_to,
)
from tests.support_pipeline import in_process_app, message

SHOP_TIME = ZoneInfo("America/Toronto")  # Garage A, in Quebec
DAY = datetime(2026, 12, 1, 10, 0, tzinfo=SHOP_TIME)


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app)


def test_a_reply_is_emailed_to_the_shop_with_the_reply_page_link(client, app, shops, smtp_server):
    port, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="sms@garage.test")
    with app.app_context():
        ours = sent_to(shops)
        forward_settings(shops["a"]["shop"], emails="desk@garage-a.test;\nboss@garage-a.test")
    post_inbound(client, app, phone=ours.phone, to=ours.sender_number, body="Can I come at 3?")
    with app.app_context():
        (reply,) = inbound_messages()
        assert forwarding.forward(reply.id) == "e-mailed"
        ((recipients, mail),) = inbox.wait(1)
        assert recipients == ["desk@garage-a.test", "boss@garage-a.test"]
        assert mail["From"] == "sms@garage.test" and ours.phone in mail["Subject"]
        text = mail.get_payload(decode=True).decode()
        assert "Can I come at 3?" in text and "Do not reply to this e-mail" in text
        assert f"/sms/replies/%2B{ours.phone[1:]}" in text
        assert message(reply.id).forwarded_at is not None
        # Run again (a retried job): nothing is e-mailed twice.
        assert forwarding.forward(reply.id) == "nothing to do"
    assert len(inbox.messages) == 1


def test_a_reply_is_forwarded_by_sms_to_the_shops_cell_without_customer_consent(
    client, app, shops, time_machine
):
    time_machine.move_to(DAY, tick=True)  # the shop's day: the SMS goes at once
    with app.app_context():
        ours = sent_to(shops)
        forward_settings(shops["a"]["shop"], cell="+15145550999")
    post_inbound(client, app, phone=ours.phone, to=ours.sender_number, body="Running late")
    with app.app_context():
        (reply,) = inbound_messages()
        assert forwarding.forward(reply.id) == "sent by SMS"
        forward = db.session.scalar(select(SmsMessage).where(SmsMessage.kind == Kind.REPLY_FORWARD))
        assert forward.phone == "+15145550999" and forward.customer_id is None
        assert "Running late" in forward.body and "Do not answer this SMS" in forward.body
        assert jobs.send_message(forward.id) == "sent"


def test_a_forward_without_smtp_keeps_the_reply_for_the_page(client, app, shops):
    app.config.update(SMTP_HOST=None)
    with app.app_context():
        ours = sent_to(shops)
        forward_settings(shops["a"]["shop"], emails="desk@garage-a.test")
    post_inbound(client, app, phone=ours.phone, to=ours.sender_number, body="Hello")
    with app.app_context():
        (reply,) = inbound_messages()
        assert forwarding.forward(reply.id) == "not e-mailed: mail_not_configured"
        kept = message(reply.id)  # failed, not forwarded: the reply page says why
        assert kept.forwarded_at is None and kept.forward_failed_at is not None
        assert kept.forward_error == "mail_not_configured"


def test_an_unrouted_reply_is_emailed_to_the_operator(client, app, smtp_server):
    port, inbox = smtp_server
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_OPERATOR_EMAILS=None,
        SMS_OPERATOR_EMAILS=["ops@platform.test"],
    )
    post_inbound(client, app, phone="+15145559876", body="Wrong number?")
    with app.app_context():
        (reply,) = inbound_messages()
        assert forwarding.forward(reply.id) == "e-mailed"
    ((recipients, mail),) = inbox.wait(1)
    assert recipients == ["ops@platform.test"]
    assert "Wrong number?" in mail.get_payload(decode=True).decode()


def test_a_forward_lost_with_redis_is_found_by_the_sweeper(client, app, shops):
    with app.app_context():
        ours = sent_to(shops)
    post_inbound(client, app, phone=ours.phone, to=ours.sender_number, body="Lost?")
    with app.app_context():
        (reply,) = inbound_messages()
        get_redis().flushdb()  # Redis emptied before a worker took the forward
        assert forwarding.sweep_forwards(grace_seconds=0) == 1
        assert forward_job(reply.id) is not None
        assert forwarding.sweep_forwards(grace_seconds=0) == 0  # queued once, not twice
        forwarding.forward(reply.id)
        assert forwarding.sweep_forwards(grace_seconds=0) == 0
        assert db.session.scalar(select(func.count()).select_from(SmsMessage)) >= 2


def test_an_smtp_server_away_is_tried_again_later_and_nothing_is_lost(client, app, shops):
    from rq import SimpleWorker
    from rq.registry import ScheduledJobRegistry

    from host.redis_connection import get_queue
    from tests.support_mail import _free_port

    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port())  # nobody listens there
    with app.app_context():
        ours = sent_to(shops)
        forward_settings(shops["a"]["shop"], emails="desk@garage-a.test")
    post_inbound(client, app, phone=ours.phone, to=ours.sender_number, body="Still open?")
    with app.app_context():
        (reply,) = inbound_messages()
        queue = get_queue("mail")
        worker = SimpleWorker([queue], connection=get_redis())
        worker.work(burst=True, with_scheduler=False)
        job = forward_job(reply.id)
        assert job.get_status() == "scheduled"  # RQ tries again in FORWARD_RETRIES[0] s
        assert job.retries_left == len(forwarding.FORWARD_RETRIES) - 1
        assert message(reply.id).forwarded_at is None
        assert forwarding.sweep_forwards(grace_seconds=0) == 0  # waiting, not lost
        # Its last attempt, now, fails too: given up on, the reply stays on the reply page.
        job.retries_left = 0
        job.save()
        ScheduledJobRegistry(queue=queue).remove(job)
        queue.enqueue_job(job)
        worker.work(burst=True, with_scheduler=False)
        job = forward_job(reply.id)
        assert job.get_status() == "finished"
        assert job.return_value() == "not e-mailed: smtp_unreachable"
        failed = message(reply.id)  # recorded failed, never as forwarded (issue 15)
        assert failed.forwarded_at is None and failed.forward_error == "smtp_unreachable"
        assert forwarding.sweep_forwards(grace_seconds=0) == 0


@pytest.mark.parametrize(
    ("arrives", "morning"),
    [
        (datetime(2026, 12, 1, 23, 30, tzinfo=SHOP_TIME), datetime(2026, 12, 2, 8, 0)),
        (datetime(2026, 12, 2, 6, 0, tzinfo=SHOP_TIME), datetime(2026, 12, 2, 8, 0)),
        (datetime(2026, 12, 1, 21, 0, tzinfo=SHOP_TIME), datetime(2026, 12, 2, 8, 0)),
    ],
)
def test_a_reply_at_night_reaches_the_shops_cell_in_its_morning_the_email_at_once(
    client, app, shops, smtp_server, time_machine, arrives, morning
):
    port, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    time_machine.move_to(DAY, tick=True)
    with app.app_context():
        ours = sent_to(shops)
        forward_settings(shops["a"]["shop"], emails="desk@garage-a.test", cell="+15145550999")
    time_machine.move_to(arrives, tick=True)
    post_inbound(client, app, phone=ours.phone, to=ours.sender_number, body="Running late")
    with app.app_context():
        (reply,) = inbound_messages()
        done = forwarding.forward(reply.id)
        assert done.startswith("SMS due at ") and done.endswith("e-mailed")
        ((recipients, _mail),) = inbox.wait(1)  # the e-mail did not wait
        assert recipients == ["desk@garage-a.test"]
        forward = db.session.scalar(select(SmsMessage).where(SmsMessage.kind == Kind.REPLY_FORWARD))
        assert forward.send_at == morning.replace(tzinfo=SHOP_TIME).astimezone(UTC)
        assert forward.status == "scheduled"
        assert jobs.send_message(forward.id) != "sent"  # not before the morning
        assert message(forward.id).provider_sid is None
    time_machine.move_to(morning.replace(tzinfo=SHOP_TIME), tick=True)
    with app.app_context():
        assert jobs.send_message(forward.id) == "sent"
