"""Slow outside services do not hold the sending (issue 15, point 5): mail runs on its own
queue with a short SMTP timeout, and a forward that finally fails is recorded as failed
(and shown on the reply page), never as done."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from host.extensions import db
from host.redis_connection import get_queue, get_redis
from plugins.sms_module.conversations import digest, forwarding, limits
from plugins.sms_module.models import Kind, SmsMessage
from plugins.sms_module.sending import outbox
from tests.conftest import login
from tests.sms_module.conversations.support import (
    forward_job,
    forward_settings,
    inbound_messages,
    post_inbound,
    sent_to,
)
from tests.support_pages import page_text
from tests.support_pipeline import accepted_message, in_process_app, message

SHOP_TIME = ZoneInfo("America/Toronto")  # Garage A, in Quebec
DAY = datetime(2026, 12, 1, 10, 0, tzinfo=SHOP_TIME)
TIMEOUT = 1  # SMTP_TIMEOUT in these tests, seconds
CELL = "+15145550999"


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app, SMS_FORWARDS_PER_HOUR=2)


@pytest.fixture
def silent_smtp():
    """An SMTP server that accepts the TCP connection and never answers: a thread accepts
    each connection and holds it, silent, until the test ends. Yields (port, held)."""
    listener = socket.create_server(("127.0.0.1", 0))
    address = listener.getsockname()
    held: list[socket.socket] = []
    done = threading.Event()

    def serve() -> None:
        while True:
            connection, _ = listener.accept()
            if done.is_set():
                connection.close()
                return
            held.append(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield address[1], held
    finally:
        done.set()
        socket.create_connection(address).close()  # wakes the accept up to see ``done``
        thread.join(10)
        for connection in held:
            connection.close()
        listener.close()


def mail_to(app, port: int) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TIMEOUT=TIMEOUT)


def routed_reply(client, app, shops, body="Still open?", cell=None) -> tuple[str, int]:
    """Shop A e-mails (and SMS its ``cell``) its replies; a customer replies: (phone, id)."""
    with app.app_context():
        ours = sent_to(shops)
        forward_settings(shops["a"]["shop"], emails="desk@garage-a.test", cell=cell)
    post_inbound(client, app, phone=ours.phone, to=ours.sender_number, body=body)
    with app.app_context():
        (reply,) = inbound_messages()
        return ours.phone, reply.id


def run_worker(queue_names: list[str]) -> float:
    """Run a burst worker on ``queue_names`` in this order, in this app context; return
    the seconds it took."""
    worker = SimpleWorker([get_queue(name) for name in queue_names], connection=get_redis())
    started = time.perf_counter()
    worker.work(burst=True, with_scheduler=False)
    return time.perf_counter() - started


def last_try_now(job: Job) -> None:
    """Make the forward's scheduled retry its last one, and due now."""
    queue = get_queue(job.origin)
    job.retries_left = 0
    job.save()
    ScheduledJobRegistry(queue=queue).remove(job)
    queue.enqueue_job(job)


def test_a_silent_smtp_server_holds_a_forward_smtp_timeout_then_it_is_recorded_failed(
    client, app, shops, silent_smtp
):
    port, held = silent_smtp
    mail_to(app, port)
    phone, reply_id = routed_reply(client, app, shops)
    with app.app_context():
        job = forward_job(reply_id)
        assert job.origin == "mail"  # its own queue, not the SMS sends'
        assert job.id in get_queue("mail").job_ids
        assert job.id not in get_queue("transactional").job_ids
        took = run_worker(["mail"])
        assert held, "the forward never reached the silent server"
        assert TIMEOUT * 0.9 <= took < TIMEOUT + 3  # SMTP_TIMEOUT, not 20 s
        job = forward_job(reply_id)
        assert job.get_status() == "scheduled"  # tried again later
        assert message(reply_id).forwarded_at is None
        last_try_now(job)
        run_worker(["mail"])
        assert forward_job(reply_id).return_value() == "not e-mailed: smtp_timeout"
        failed = message(reply_id)
        assert failed.forwarded_at is None  # never recorded as done
        assert failed.forward_failed_at is not None and failed.forward_error == "smtp_timeout"
        assert forwarding.sweep_forwards(grace_seconds=0) == 0  # not picked again
        assert forward_job(reply_id).get_status() == "finished"


def test_the_reply_page_says_the_forward_failed_and_when(
    client, app, shops, silent_smtp, time_machine
):
    time_machine.move_to(DAY, tick=True)
    mail_to(app, silent_smtp[0])
    phone, reply_id = routed_reply(client, app, shops, body="Are you open Sunday?")
    with app.app_context():
        assert forwarding.forward(reply_id) == "not e-mailed: smtp_timeout"  # its last try
    login(client, shops["a"]["staff"])
    client.get("/language/en")
    english = page_text(client.get(f"/sms/replies/{phone}"))
    assert 'data-forward-error="smtp_timeout"' in english
    assert "E-mail forward failed: the mail server did not answer (Dec 1, 2026" in english
    client.get("/language/fr")
    french = page_text(client.get(f"/sms/replies/{phone}"))
    assert "Transfert par courriel échoué : le serveur de courriel n'a pas répondu" in french
    assert "(1 déc. 2026" in french


def test_a_forward_whose_sms_went_and_email_failed_says_both(
    client, app, shops, silent_smtp, time_machine
):
    time_machine.move_to(DAY, tick=True)  # the shop's day: the SMS to the cell goes at once
    mail_to(app, silent_smtp[0])
    phone, reply_id = routed_reply(client, app, shops, body="Running late", cell=CELL)
    with app.app_context():
        assert forwarding.forward(reply_id) == "sent by SMS, not e-mailed: smtp_timeout"
        failed = message(reply_id)
        assert failed.forwarded_at is None and failed.forward_error == "smtp_timeout"
        to_cell = db.session.scalar(select(SmsMessage).where(SmsMessage.kind == Kind.REPLY_FORWARD))
        assert to_cell.phone == CELL
        assert forwarding.forward(reply_id) == "nothing to do"  # given up on: not again
    login(client, shops["a"]["staff"])
    client.get("/language/en")
    text = page_text(client.get(f"/sms/replies/{phone}"))
    assert "E-mail forward failed: the mail server did not answer" in text
    assert f'data-cell-forward="{to_cell.status.value}"' in text
    assert "Forward by SMS to the shop's cell: " in text


def test_a_working_smtp_server_gets_the_forward_from_the_mail_queue(
    client, app, shops, smtp_server
):
    port, inbox = smtp_server
    mail_to(app, port)
    _phone, reply_id = routed_reply(client, app, shops, body="See you at 3")
    with app.app_context():
        run_worker(["mail"])
        assert forward_job(reply_id).return_value() == "e-mailed"
        ((recipients, mail),) = inbox.wait(1)
        assert recipients == ["desk@garage-a.test"]
        assert "See you at 3" in mail.get_payload(decode=True).decode()
        forwarded = message(reply_id)
        assert forwarded.forwarded_at is not None and forwarded.forward_failed_at is None


def test_a_send_queued_after_a_hanging_forward_is_run_first(client, app, shops, silent_smtp):
    port, _held = silent_smtp
    mail_to(app, port)
    app.config["SMS_OPERATOR_EMAILS"] = ["ops@platform.test"]
    post_inbound(client, app, phone="+15145559876", body="Wrong number?")  # forward queued
    with app.app_context():
        (reply,) = inbound_messages()
        forward = forward_job(reply.id)
        send_id = accepted_message(shops)  # an SMS send, queued after the forward
        send = outbox.live_job(send_id)
        assert send.origin == "transactional" and forward.enqueued_at <= send.enqueued_at
        declared = app.extensions["queues_declared"]  # what ``crmhost worker`` listens on
        assert declared.index("transactional") < declared.index("mail")
        run_worker(declared)
        forward.refresh()
        send.refresh()
        assert message(send_id).status == "sent"
        assert send.ended_at <= forward.started_at  # the send did not wait for the SMTP server
        assert forward.get_status() == "scheduled"


def test_a_digest_that_finally_fails_marks_the_replies_it_covers(client, app, shops, silent_smtp):
    mail_to(app, silent_smtp[0])
    with app.app_context():
        ours = sent_to(shops)
        forward_settings(shops["a"]["shop"], emails="desk@garage-a.test")
        app.config["SMTP_HOST"] = None  # the first two forwards: recorded, not waited for
    for n in range(4):
        post_inbound(
            client, app, sid=f"SMd{n}", phone=ours.phone, to=ours.sender_number, body=f"d{n}"
        )
    with app.app_context():
        replies = inbound_messages()
        assert [forwarding.forward(m.id) for m in replies][2:] == ["held for the digest"] * 2
        held = [m.id for m in replies[2:]]
        app.config["SMTP_HOST"] = "127.0.0.1"
        job = Job.fetch(f"sms-forward-digest-{held[0]}", connection=get_redis())
        assert job.origin == "mail" and job.retries_left == len(forwarding.FORWARD_RETRIES)
        with pytest.raises(TimeoutError):  # RQ tries it again later
            job.perform()
        assert limits.held(shops["a"]["shop"], ours.phone) == []  # taken, kept with the job
        job = Job.fetch(job.id, connection=get_redis())
        job.retries_left = 0  # its last try
        job.save()
        assert job.perform() == "not e-mailed: smtp_timeout"
        assert digest.send(shops["a"]["shop"], ours.phone) == "nothing to do"
        db.session.expire_all()
        for reply_id in held:
            failed = message(reply_id)
            assert failed.forwarded_at is None and failed.forward_error == "smtp_timeout"
        assert forwarding.sweep_forwards(grace_seconds=0) == 0
