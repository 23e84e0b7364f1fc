"""Customers' replies (PRODUCT.md §9) and STOP / START / HELP (§5) through the signed
inbound webhook, on a real database, a real Redis and a real SMTP server."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rq.job import Job
from sqlalchemy import func, select

from host.extensions import db
from host.models import Customer
from host.redis_connection import get_redis
from plugins.sms_module import jobs
from plugins.sms_module.carriers.simulator import SimulatorCarrier
from plugins.sms_module.carriers.webhooks import signature_for
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.conversations import forwarding, inbound
from plugins.sms_module.models import (
    Kind,
    OptOutAction,
    ShopSmsSettings,
    SmsMessage,
)
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import service
from tests.support_pipeline import accepted_message, in_process_app, message
from tests.support_sms import ready_to_send

PATH = "/sms/twilio/inbound"


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app)


def post_inbound(client, app, sid="SMin1", phone="+15145550101", to="+14386013562", body="Hi"):
    """Post an inbound SMS signed like the carrier's."""
    url = app.config["SMS_PUBLIC_BASE_URL"].rstrip("/") + PATH
    params = {"MessageSid": sid, "From": phone, "To": to, "Body": body, "AccountSid": "ACx"}
    signature = signature_for(app.config["SMS_SIMULATOR_AUTH_TOKEN"], url, params)
    return client.post(PATH, data=params, headers={"X-Twilio-Signature": signature})


@dataclass(frozen=True)
class Sent:
    id: int
    phone: str
    sender_number: str


def sent_to(shops, key="a", body="Your car is ready") -> Sent:
    """Send shop ``key``'s customer a message through the pipeline; say where it went."""
    company, customer = ready_to_send(shops, key)
    mid = service.request_send(company, customer=customer, body=body).id
    assert jobs.send_message(mid) == "sent"
    sent = message(mid)
    return Sent(sent.id, sent.phone, sent.sender_number)


def inbound_messages() -> list[SmsMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SmsMessage).where(SmsMessage.direction == "inbound").order_by(SmsMessage.id)
        )
    )


def answers() -> list[SmsMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SmsMessage)
            .where(SmsMessage.kind == Kind.KEYWORD_ANSWER)
            .order_by(SmsMessage.id)
        )
    )


def forward_job(message_id: int) -> Job | None:
    return (
        Job.fetch(forwarding.forward_job_id(message_id), connection=get_redis())
        if (get_redis().exists(f"rq:job:{forwarding.forward_job_id(message_id)}"))
        else None
    )


def test_an_unsigned_or_forged_inbound_sms_is_refused(client, app):
    assert (
        client.post(PATH, data={"MessageSid": "SMx", "From": "+1", "To": "+1"}).status_code == 403
    )
    forged = client.post(
        PATH,
        data={"MessageSid": "SMx", "From": "+15145550101", "To": "+14386013562", "Body": "x"},
        headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
    )
    assert forged.status_code == 403
    with app.app_context():
        assert inbound_messages() == []


def test_a_reply_goes_to_the_shop_whose_conversation_it_answers(client, app, shops):
    with app.app_context():
        ours = sent_to(shops)
    response = post_inbound(client, app, phone=ours.phone, to=ours.sender_number, body="Thanks!")
    assert response.status_code == 200
    assert response.mimetype == "text/xml" and "<Response>" in response.text
    with app.app_context():
        (reply,) = inbound_messages()
        assert reply.company_id == shops["a"]["shop"]
        assert reply.customer_id == shops["a"]["customer"]
        assert reply.status == Status.RECEIVED and reply.body == "Thanks!"
        assert [h.status.value for h in reply.history] == ["receiving", "received"]
        assert reply.sender_number == ours.sender_number and reply.read_at is None
        assert forward_job(reply.id) is not None  # forwarded after the commit
        assert answers() == []


def test_the_same_phone_talking_to_two_shops_reaches_each_on_its_own_number(client, app, shops):
    with app.app_context():
        to_a = sent_to(shops, "a")
        b_customer = db.session.get(Customer, shops["b"]["customer"])
        b_customer.mobile_phone = to_a.phone  # one person, customer of both shops
        db.session.commit()
        to_b = sent_to(shops, "b")
        assert to_a.sender_number != to_b.sender_number  # the pool avoids sharing a number
    post_inbound(client, app, sid="SM1", phone=to_a.phone, to=to_a.sender_number, body="for A")
    post_inbound(client, app, sid="SM2", phone=to_a.phone, to=to_b.sender_number, body="for B")
    with app.app_context():
        first, second = inbound_messages()
        assert (first.body, first.company_id) == ("for A", shops["a"]["shop"])
        assert (second.body, second.company_id) == ("for B", shops["b"]["shop"])


def test_a_reply_no_conversation_explains_goes_to_the_operator(client, app, shops):
    assert post_inbound(client, app, phone="+15145559876", body="Who is this?").status_code == 200
    with app.app_context():
        (reply,) = inbound_messages()
        assert reply.company_id is None and reply.customer_id is None


def test_a_repeated_delivery_is_kept_once(client, app, shops):
    with app.app_context():
        ours = sent_to(shops)
    for _ in range(3):
        assert post_inbound(client, app, sid="SMdup", phone=ours.phone, to=ours.sender_number)
    with app.app_context():
        assert len(inbound_messages()) == 1


def test_a_request_without_sender_is_refused_clearly_and_keeps_nothing(client, app):
    response = post_inbound(client, app, phone="")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_inbound"
    assert "From" in response.json["error"]["message"]
    with app.app_context():
        assert inbound_messages() == []


@pytest.mark.parametrize("word", ["STOP", "stop", " Arrêt ", "Désabonner", "quit!"])
def test_stop_opts_the_phone_out_everywhere_and_is_answered_from_the_same_number(
    client, app, shops, word
):
    with app.app_context():
        ours = sent_to(shops)
    post_inbound(client, app, phone=ours.phone, to=ours.sender_number, body=word)
    with app.app_context():
        assert opt_out.is_opted_out(ours.phone)
        (event,) = opt_out.events(ours.phone)
        assert event.action == OptOutAction.OPT_OUT and event.source == "sms_keyword"
        assert event.raw_message == word and event.company_id == shops["a"]["shop"]
        (answer,) = answers()
        assert "START" in answer.body or "DEBUT" in answer.body
        # The answer goes although the phone is opted out, from the number written to.
        assert jobs.send_message(answer.id) == "sent"
        sent = message(answer.id)
        assert sent.status == Status.SENT and sent.sender_number == ours.sender_number
        (reply,) = inbound_messages()
        assert reply.forwarded_at is not None and forward_job(reply.id) is None
        # Every shop is now refused for that phone (platform-wide).
        company, customer = ready_to_send(shops, "b")
        customer.mobile_phone = ours.phone
        db.session.commit()
        with pytest.raises(service.SendRefused) as refused:
            service.request_send(company, customer=customer, body="Promo")
        assert refused.value.code == "opted_out"


def test_start_opts_back_in_and_yes_does_only_for_an_opted_out_phone(client, app, shops):
    with app.app_context():
        ours = sent_to(shops)
    post_inbound(client, app, sid="SM1", phone=ours.phone, to=ours.sender_number, body="STOP")
    post_inbound(client, app, sid="SM2", phone=ours.phone, to=ours.sender_number, body="Oui")
    with app.app_context():
        assert not opt_out.is_opted_out(ours.phone)
        assert [e.action for e in opt_out.events(ours.phone)] == [
            OptOutAction.OPT_OUT,
            OptOutAction.OPT_IN,
        ]
    # Subscribed, "yes" is a plain reply: forwarded, not a keyword.
    post_inbound(client, app, sid="SM3", phone=ours.phone, to=ours.sender_number, body="yes")
    with app.app_context():
        assert len(opt_out.events(ours.phone)) == 2
        assert len(answers()) == 2
        assert forward_job(inbound_messages()[-1].id) is not None


def test_help_is_answered_with_who_writes_in_the_shops_language(client, app, shops):
    with app.app_context():
        ours = sent_to(shops)  # shop A is in Quebec, in French
    post_inbound(client, app, phone=ours.phone, to=ours.sender_number, body="aide")
    post_inbound(client, app, sid="SM2", phone="+15145559876", body="HELP")  # nobody's
    with app.app_context():
        shop, nobody = answers()
        assert shop.body.startswith("Garage A") and "ARRET" in shop.body
        assert "STOP" in nobody.body and "ARRET" in nobody.body  # both languages
        assert nobody.company_id is None and nobody.sender_number == "+14386013562"
        assert not opt_out.is_opted_out(ours.phone)
        assert jobs.send_message(nobody.id) == "sent"
        assert SimulatorCarrier.from_config(app.config).fetch(message(nobody.id).provider_sid)


def forward_settings(company_id: int, emails: str | None = None, cell: str | None = None):
    db.session.merge(
        ShopSmsSettings(company_id=company_id, forward_emails=emails, forward_phone=cell)
    )
    db.session.commit()


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


def test_a_reply_is_forwarded_by_sms_to_the_shops_cell_without_customer_consent(client, app, shops):
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
        assert forwarding.forward(reply.id) == "no SMTP server for the e-mail"
        assert message(reply.id).forwarded_at is not None


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


def test_accepted_message_helper_still_routes(app, shops):
    """A message sent with the pipeline helpers is what routing looks at."""
    with app.app_context():
        mid = accepted_message(shops)
        assert jobs.send_message(mid) == "sent"
        sent = message(mid)
        assert inbound.route(sent.phone, sent.sender_number) == shops["a"]["shop"]
        assert inbound.route(sent.phone, "+14386011668") is None


def test_the_simulator_takes_a_reply_from_the_command_line(app, shops):
    with app.app_context():
        ours = sent_to(shops)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sms", "receive", ours.phone, ours.sender_number, "On my way"])
    assert result.exit_code == 0, result.output
    assert "reply" in result.output and "Garage A" in result.output
    result = runner.invoke(args=["sms", "receive", "514 555 9876", "+1 438 601 3562", "STOP"])
    assert result.exit_code == 0 and "keyword STOP" in result.output
    assert "the operator" in result.output
    bad = runner.invoke(args=["sms", "receive", "12", ours.sender_number, "x"])
    assert bad.exit_code != 0 and "not a valid phone number" in bad.output
    unknown = runner.invoke(args=["sms", "receive", ours.phone, "+15145550000", "x"])
    assert unknown.exit_code != 0 and "Traceback" not in unknown.output
    with app.app_context():
        assert [m.body for m in inbound_messages()] == ["On my way", "STOP"]
        assert opt_out.is_opted_out("+15145559876")


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
        queue = get_queue("transactional")
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
        assert job.return_value().startswith("not e-mailed: ")
        assert message(reply.id).forwarded_at is not None
        assert forwarding.sweep_forwards(grace_seconds=0) == 0
