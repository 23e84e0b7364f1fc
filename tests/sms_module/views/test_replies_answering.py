"""Answering on the reply page (PRODUCT.md §9): the reply box sends on the transactional
queue from the number written to, or says why not; the operator only reads."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from host.extensions import db
from host.models import Company
from plugins.sms_module import jobs
from plugins.sms_module.compliance import opt_out, rules
from plugins.sms_module.conversations import inbound
from plugins.sms_module.models import Kind, Queue, SmsMessage
from plugins.sms_module.models.statuses import Status
from tests.conftest import PASSWORD, login
from tests.sms_module.views.support import (
    NUMBER,
    STRANGER,
    add_message,
    add_reply,
    conversation_rows,
    inbox_rows,
    message_rows,
    routed_reply,
)
from tests.support_pages import csrf_token, page_text
from tests.support_pipeline import in_process_app
from tests.support_sms import login_en, module_on, ready_to_send


@pytest.fixture
def app(make_app, redis_url):
    """Sends run in-process at once and no simulator report comes back by itself."""
    return in_process_app(make_app)


# Replying ----------------------------------------------------------------------------------


def test_reply_goes_on_the_transactional_queue_from_the_number_written_to(client, app, shops):
    with app.app_context():
        phone, number, _reply_id = routed_reply(shops)
        before = {row.id for row in message_rows()}
    login_en(client, shops["a"]["staff"])
    response = client.post(f"/sms/replies/{phone}", data={"body": "Parfait, à demain"})
    assert response.status_code == 303
    assert response.location.endswith(f"/sms/replies/{phone}")
    with app.app_context():
        new = [row for row in message_rows() if row.id not in before]
        assert len(new) == 1
        reply = db.session.get(SmsMessage, new[0].id)
        assert reply.direction == "outbound" and reply.kind == Kind.REPLY
        assert reply.queue == Queue.TRANSACTIONAL and reply.phone == phone
        assert reply.customer_id == shops["a"]["customer"]
        assert reply.company_id == shops["a"]["shop"]
        assert reply.created_by_id == shops["a"]["staff_id"]
        assert reply.status in (Status.SCHEDULED, Status.QUEUED)
        assert [h.source for h in reply.history][0] == "staff"
        # The sticky sender: the reply leaves from the number the customer wrote to.
        assert jobs.send_message(reply.id) == "sent"
        assert db.session.get(SmsMessage, reply.id).sender_number == number
    page = client.get(response.location)
    text = page_text(page)
    assert "Your reply is scheduled" in text
    ours = [row for row in conversation_rows(page) if "Parfait, à demain" in row]
    assert len(ours) == 1 and 'data-direction="outbound"' in ours[0] and "Sent" in ours[0]


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ("", "empty_body", "The message is empty: write the text to send."),
        ("   ", "empty_body", "The message is empty: write the text to send."),
        ("x" * 1601, "too_long", "The message has 1601 characters; the limit is 1600."),
        ("Toujours là ?", "opted_out", "This phone replied STOP"),
    ],
)
def test_refused_reply_keeps_the_text_says_why_and_sends_nothing(
    client, app, shops, body, code, says
):
    with app.app_context():
        phone, _number, _reply_id = routed_reply(shops)
        if code == "opted_out":
            opt_out.opt_out(phone, "test", shops["a"]["shop"], "STOP")
            db.session.commit()
        before = message_rows()
    login_en(client, shops["a"]["staff"])
    response = client.post(f"/sms/replies/{phone}", data={"body": body})
    assert response.status_code == 422
    text = page_text(response)
    assert says in text.replace(",", "")
    assert re.search(r'<textarea id="sms-body"[^>]*>' + re.escape(body) + "</textarea>", text)
    assert "Oui, je passe demain" in text  # still the conversation, not an error page
    with app.app_context():
        after = message_rows()
        added = after[len(before) :]
        # Nothing scheduled. A rule's refusal is kept as one Failed record (its audit trail,
        # as on the customer's SMS tab), with the reason; a malformed text is a form error
        # and stores nothing (issue 11, point 5).
        assert after[: len(before)] == before
        kept = [(Status.FAILED, code)] if code == "opted_out" else []
        assert [(row.status, row.failure_code) for row in added] == kept


def test_refused_reply_to_a_phone_with_no_customer_writes_nothing(client, app, shops):
    with app.app_context():
        shop = shops["a"]["shop"]
        module_on(shop)
        add_message(shop, STRANGER, "Message to a phone since removed from its customer")
        add_reply(shop, STRANGER, "Who is this?")
        before = message_rows()
    login_en(client, shops["a"]["staff"])
    response = client.post(f"/sms/replies/{STRANGER}", data={"body": "Garage A here"})
    assert response.status_code == 422
    text = page_text(response)
    assert "No express consent is on record for this recipient" in text
    assert ">Garage A here</textarea>" in text
    with app.app_context():
        assert message_rows() == before


def test_reply_form_needs_its_csrf_token(shops_with_csrf):
    app, phone = shops_with_csrf
    client = app.test_client()
    token = csrf_token(client.get("/login"))
    data = {"email": "staff-a@example.com", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    client.get("/language/en")
    refused = client.post(f"/sms/replies/{phone}", data={"body": "Sans jeton"})
    assert refused.status_code == 400
    token = csrf_token(client.get(f"/sms/replies/{phone}"))
    sent = client.post(f"/sms/replies/{phone}", data={"body": "Avec jeton", "csrf_token": token})
    assert sent.status_code in (302, 303)
    with app.app_context():
        bodies = db.session.scalars(select(SmsMessage.body).where(SmsMessage.kind == "reply"))
        assert list(bodies) == ["Avec jeton"]


@pytest.fixture
def shops_with_csrf(make_app, shops):
    """The same database, served by an app that checks CSRF tokens."""
    app = make_app(WTF_CSRF_ENABLED=True, SMS_SIMULATOR_CALLBACK_DELAY=None)
    with app.app_context():
        company, customer = ready_to_send(shops)
        add_reply(company.id, customer.mobile_phone, "Bonjour")
        return app, customer.mobile_phone


# The module switched off -------------------------------------------------------------------


def test_module_off_says_how_to_switch_it_on(client, app, shops):
    with app.app_context():
        phone, _number, reply_id = routed_reply(shops)
        module_on(shops["a"]["shop"], enabled=False)
        before = message_rows()
    login_en(client, shops["a"]["admin"])
    switch_on = "option 124"
    inbox = page_text(client.get("/sms/replies/"))
    assert switch_on in inbox and 'id="sms-conversations"' not in inbox
    conversation = client.get(f"/sms/replies/{phone}")
    assert conversation.status_code == 200
    text = page_text(conversation)
    assert switch_on in text and 'id="sms-reply"' not in text and "Oui, je passe" not in text
    refused = client.post(f"/sms/replies/{phone}", data={"body": "Hello"})
    assert refused.status_code == 422 and switch_on in page_text(refused)
    with app.app_context():
        assert message_rows() == before
        assert db.session.get(SmsMessage, reply_id).read_at is None  # nobody read it


# The operator ------------------------------------------------------------------------------


def test_operator_reads_the_unrouted_replies_and_cannot_answer(client, app, shops):
    with app.app_context():
        shop_phone, _number, shop_reply = routed_reply(shops, sid="SMin1")
        unrouted = inbound.receive("SMin2", STRANGER, NUMBER, "Who sent me this?").message
        assert unrouted.company_id is None
        unrouted_id = unrouted.id
        before = message_rows()
    login(client, "operator@example.com")
    client.get("/language/en")
    response = client.get("/sms/replies/")
    rows = inbox_rows(response)
    assert list(rows) == [STRANGER] and 'data-unread="1"' in rows[STRANGER]
    assert "Replies that answered no shop's conversation" in page_text(response)
    conversation = client.get(f"/sms/replies/{STRANGER}")
    text = page_text(conversation)
    assert conversation.status_code == 200 and "Who sent me this?" in text
    assert 'id="sms-reply"' not in text and "it can be read here, not answered" in text
    assert client.get(f"/sms/replies/{shop_phone}").status_code == 404  # a shop's conversation
    assert client.post(f"/sms/replies/{STRANGER}", data={"body": "Hi"}).status_code == 403
    with app.app_context():
        assert message_rows() == before
        assert db.session.get(SmsMessage, unrouted_id).read_at is not None
        assert db.session.get(SmsMessage, shop_reply).read_at is None
    staff = app.test_client()
    login_en(staff, shops["a"]["staff"])
    assert staff.get(f"/sms/replies/{STRANGER}").status_code == 404  # the operator's, not A's
    assert STRANGER not in staff.get("/sms/replies/").text


def test_the_reply_page_says_the_shops_location_is_missing(app, client, shops):
    with app.app_context():
        phone, _number, _reply_id = routed_reply(shops)
        db.session.get(Company, shops["a"]["shop"]).province = None
        db.session.commit()
        nowhere = rules.location_message()
    login_en(client, shops["a"]["staff"])
    for path in ("/sms/replies/", f"/sms/replies/{phone}"):
        page = page_text(client.get(path))
        assert nowhere in page, path
