"""The reply page (PRODUCT.md §9): the inbox of conversations, a conversation with both
sides and their statuses, and who may see which conversation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from host.extensions import db
from host.models import Company, Customer, utcnow
from plugins.sms_module.models import Kind, SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.views import replies
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
from tests.support_pages import page_text
from tests.support_pipeline import in_process_app
from tests.support_sms import login_en, module_on


@pytest.fixture
def app(make_app, redis_url):
    """Sends run in-process at once and no simulator report comes back by itself."""
    return in_process_app(make_app)


# The inbox ---------------------------------------------------------------------------------


def test_inbox_lists_a_routed_reply_with_its_unread_count(client, app, shops):
    with app.app_context():
        phone, _number, _reply_id = routed_reply(shops, body="Oui, je passe demain matin")
    login_en(client, shops["a"]["staff"])
    response = client.get("/sms/replies/")
    text = page_text(response)
    assert 'href="/sms/replies/"' in text and "SMS replies" in text  # the menu links here
    rows = inbox_rows(response)
    assert list(rows) == [phone]
    row = rows[phone]
    assert 'data-unread="1"' in row
    assert "Client A" in row and "(514) 555-0101" in row
    assert "Oui, je passe demain matin" in row  # the last message of the conversation
    assert f'href="/sms/replies/{phone}"' in row  # to the conversation


def test_inbox_is_newest_first_shortens_the_last_message_and_counts_unread(client, app, shops):
    with app.app_context():
        shop = shops["a"]["shop"]
        module_on(shop)
        old, new = "+15145550190", "+15145550191"
        add_message(shop, old, "Rappel")
        add_reply(shop, old, "Première réponse")
        add_reply(shop, old, "Deuxième réponse", read_at=utcnow())
        add_reply(shop, old, "Troisième réponse")
        add_reply(shop, new, "Bonjour", read_at=utcnow())
        add_message(shop, new, "Z" * 200, kind=Kind.REPLY)  # our answer: the last message
        add_message(shop, "+15145550192", "Only ours, never answered")
    login_en(client, shops["a"]["staff"])
    rows = inbox_rows(client.get("/sms/replies/"))
    assert list(rows) == [new, old]  # a phone that never replied is no conversation
    assert 'data-unread="2"' in rows[old] and "Troisième réponse" in rows[old]
    assert 'data-unread="0"' in rows[new]
    assert "Z" * 79 + "…" in rows[new] and "Z" * 80 not in rows[new]  # shortened
    assert "You:" in rows[new]


def test_inbox_pages_and_its_queries_do_not_grow_with_the_conversations(
    client, app, shops, monkeypatch
):
    monkeypatch.setattr(replies, "PER_PAGE", 3)
    with app.app_context():
        shop = shops["a"]["shop"]
        module_on(shop)
        phones = [f"+1514555020{i}" for i in range(7)]
        for phone in phones:
            add_reply(shop, phone, f"Reply from {phone}")
    login_en(client, shops["a"]["staff"])

    statements = []

    def count(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        first = client.get("/sms/replies/")
        on_first_page = len(statements)
        statements.clear()
        last = client.get("/sms/replies/?page=3")
        on_last_page = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert list(inbox_rows(first)) == phones[::-1][:3]
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    assert list(inbox_rows(last)) == [phones[0]]
    assert 'rel="prev"' in last.text and 'rel="next"' not in last.text
    # Three full rows or one: the same few queries (no query per conversation).
    assert on_first_page == on_last_page
    huge = client.get("/sms/replies/?page=99999999999999999999999")
    assert huge.status_code == 200 and "No reply yet" in page_text(huge)


def test_empty_inbox_says_so(client, app, shops):
    with app.app_context():
        module_on(shops["b"]["shop"])
    login_en(client, shops["b"]["admin"])
    text = page_text(client.get("/sms/replies/"))
    assert "No reply yet: when a customer answers" in text
    assert 'data-phone="' not in text


# A conversation ----------------------------------------------------------------------------


def test_conversation_shows_both_directions_with_statuses_and_marks_read(client, app, shops):
    with app.app_context():
        phone, number, reply_id = routed_reply(shops, body="Oui, je passe demain")
        shop = shops["a"]["shop"]
        add_message(
            shop,
            phone,
            "Rappel refusé",
            status=Status.FAILED,
            sender_number=None,
            failure_code="opted_out",
            failure_reason="The carrier refused it.",
        )
        later = add_reply(shop, phone, "Et à quelle heure ?")
    login_en(client, shops["a"]["staff"])
    response = client.get(f"/sms/replies/{phone}")
    assert response.status_code == 200
    rows = conversation_rows(response)
    bodies = [
        b
        for b in ("Votre auto est prête", "Oui, je passe demain", "Rappel refusé", "Et à quelle")
        if any(b in row for row in rows)
    ]
    assert bodies == [
        "Votre auto est prête",
        "Oui, je passe demain",
        "Rappel refusé",
        "Et à quelle",
    ]
    ours = next(r for r in rows if "Votre auto est prête" in r)
    theirs = next(r for r in rows if "Oui, je passe demain" in r)
    failed = next(r for r in rows if "Rappel refusé" in r)
    # Oldest first: ours, then the customer's answer.
    assert rows.index(ours) < rows.index(theirs) < rows.index(failed)
    assert 'data-direction="outbound"' in ours and "Sent" in ours and "from (438) 601-3562" in ours
    assert 'data-direction="inbound"' in theirs and "Received" in theirs
    assert "to (438) 601-3562" in theirs and "Client A" in theirs and "New" in theirs
    # A rule's code, said from its code in the reader's words (issue 12 point 1).
    assert "Refused" in failed and "This phone replied STOP" in failed
    assert 'id="sms-reply"' in response.text and 'name="csrf_token"' in response.text
    assert "compose.js" in response.text and 'data-preview-url="/sms/segments"' in response.text
    with app.app_context():
        assert db.session.get(SmsMessage, reply_id).read_at is not None
        assert db.session.get(SmsMessage, later).read_at is not None
    # Read now: the inbox counts nothing unread, and the page no longer flags them new.
    assert 'data-unread="0"' in inbox_rows(client.get("/sms/replies/"))[phone]
    again = conversation_rows(client.get(f"/sms/replies/{phone}"))
    assert not any("New" in row for row in again)
    assert number == NUMBER


def test_unknown_malformed_and_foreign_phones_are_404(client, app, shops):
    with app.app_context():
        module_on(shops["a"]["shop"])
        module_on(shops["b"]["shop"])
        add_reply(shops["b"]["shop"], "+14165550102", "B's customer")
    login_en(client, shops["a"]["staff"])
    for path in (STRANGER, "+14165550102", "5145550101", "+1514abc", "%2B", "+0123456789"):
        assert client.get(f"/sms/replies/{path}").status_code == 404, path
    before = None
    with app.app_context():
        before = message_rows()
    response = client.post("/sms/replies/+14165550102", data={"body": "Hello"})
    assert response.status_code == 404
    with app.app_context():
        assert message_rows() == before


def test_the_same_phone_talking_to_two_shops_is_two_conversations(client, app, shops):
    with app.app_context():
        phone = "+15145550101"  # shop A's customer, who also deals with shop B
        module_on(shops["a"]["shop"])
        module_on(shops["b"]["shop"])
        add_message(shops["a"]["shop"], phone, "A: votre auto est prête")
        add_reply(shops["a"]["shop"], phone, "A: merci")
        add_message(shops["b"]["shop"], phone, "B: your tires are in")
        b_reply = add_reply(shops["b"]["shop"], phone, "B: secret reply")
    login_en(client, shops["a"]["staff"])
    inbox = client.get("/sms/replies/")
    assert list(inbox_rows(inbox)) == [phone]
    assert "B: secret reply" not in page_text(inbox)
    text = page_text(client.get(f"/sms/replies/{phone}"))
    assert "A: merci" in text and "A: votre auto est prête" in text
    assert "B: secret reply" not in text and "B: your tires are in" not in text
    with app.app_context():
        assert db.session.get(SmsMessage, b_reply).read_at is None  # A's visit reads only A's
    other = app.test_client()
    login_en(other, shops["b"]["staff"])
    text = page_text(other.get(f"/sms/replies/{phone}"))
    assert "B: secret reply" in text and "A: merci" not in text


def test_a_reply_from_a_phone_of_a_customer_of_another_shop_stays_with_its_shop(client, app, shops):
    """A customer of shop B with A's customer's phone does not name A's conversation."""
    with app.app_context():
        phone, _number, _reply_id = routed_reply(shops)
        db.session.add(
            Customer(
                company_id=shops["b"]["shop"],
                first_name="Other",
                last_name="Name",
                mobile_phone=phone,
            )
        )
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Company)) == 2
    login_en(client, shops["a"]["staff"])
    text = page_text(client.get("/sms/replies/"))
    assert "Client A" in text and "Other Name" not in text


def test_message_times_are_the_shops(client, app, shops):
    with app.app_context():
        shop = shops["b"]["shop"]  # Ontario: Toronto time
        module_on(shop)
        at = utcnow().replace(hour=15, minute=4, second=0, microsecond=0) - timedelta(days=1)
        add_reply(shop, "+14165550102", "Timed", created_at=at)
    login_en(client, shops["b"]["staff"])
    text = page_text(client.get("/sms/replies/+14165550102"))
    # 15:04 UTC is 10:04 or 11:04 in Toronto, written by Babel (issue 12 point 2)
    assert re.search(r"1[01]:04\sa\.m\.", text) and "15:04" not in text


def test_why_a_message_failed_is_a_sentence_not_a_code(client, app, shops):
    with app.app_context():
        shop = shops["b"]["shop"]
        module_on(shop)
        add_reply(shop, "+14165550102", "Are you open?")
        fields = {"failure_code": "no_consent", "failure_reason": "no_consent"}
        add_message(shop, "+14165550102", "Yes", status=Status.FAILED, **fields)
    login_en(client, shops["b"]["staff"])
    text = page_text(client.get("/sms/replies/+14165550102"))
    assert "No express consent is on record for this recipient." in text  # issue 12 point 1
    assert "no_consent" not in text


# Strangers ---------------------------------------------------------------------------------


def test_anonymous_user_is_sent_to_log_in(client, app, shops):
    with app.app_context():
        phone, _number, reply_id = routed_reply(shops)
        before = message_rows()
    for response in (
        client.get("/sms/replies/"),
        client.get(f"/sms/replies/{phone}"),
        client.post(f"/sms/replies/{phone}", data={"body": "Hello"}),
    ):
        assert response.status_code == 302 and "/login" in response.location
    with app.app_context():
        assert message_rows() == before
        assert db.session.get(SmsMessage, reply_id).read_at is None


def test_every_user_has_the_menu_link(client, app, shops):
    for email in (shops["a"]["staff"], shops["b"]["admin"], "operator@example.com"):
        other = app.test_client()
        login_en(other, email)
        assert 'href="/sms/replies/"' in other.get("/").text, email
