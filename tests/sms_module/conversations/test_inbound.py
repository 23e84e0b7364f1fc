"""Customers' SMS to us (PRODUCT.md §9) through the signed inbound webhook: kept once and
routed to the shop whose conversation they answer, or to the operator."""

from __future__ import annotations

import pytest

from host.extensions import db
from host.models import Customer
from plugins.sms_module import jobs
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.conversations import inbound
from plugins.sms_module.models.statuses import Status
from tests.sms_module.conversations.support import (
    PATH,
    answers,
    forward_job,
    inbound_messages,
    post_inbound,
    sent_to,
)
from tests.support_pipeline import accepted_message, in_process_app, message


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app)


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
