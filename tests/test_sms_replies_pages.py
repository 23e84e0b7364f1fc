"""The reply page (PRODUCT.md §9): the inbox of conversations, a conversation with both
sides and their statuses, the reply box, and who may see which conversation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from host.extensions import db
from host.models import Company, Customer, utcnow
from plugins.sms_module import jobs
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.conversations import inbound
from plugins.sms_module.models import Direction, Kind, Queue, SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import service
from plugins.sms_module.views import replies
from tests.conftest import PASSWORD, login
from tests.support_pages import csrf_token, page_text
from tests.support_pipeline import in_process_app
from tests.support_sms import login_en, module_on, ready_to_send

NUMBER = "+14386013562"  # the first transactional sender number
STRANGER = "+15145550177"  # a phone no shop ever wrote to


@pytest.fixture
def app(make_app, redis_url):
    """Sends run in-process at once and no simulator report comes back by itself."""
    return in_process_app(make_app)


def routed_reply(shops, key: str = "a", body: str = "Oui, je passe demain", sid: str = "SMin1"):
    """Send shop ``key``'s customer an SMS, then receive the customer's answer to it (routed
    like a real one); return (phone, the number written to, the reply's id)."""
    company, customer = ready_to_send(shops, key)
    sent = service.request_send(company, customer=customer, body="Votre auto est prête")
    assert jobs.send_message(sent.id) == "sent"
    number = db.session.get(SmsMessage, sent.id).sender_number
    received = inbound.receive(sid, customer.mobile_phone, number, body)
    assert received.message.company_id == company.id  # routed to the shop
    return customer.mobile_phone, number, received.message.id


def add_message(company_id, phone, body, *, direction="outbound", status=Status.SENT, **fields):
    """Insert a message row directly (for conversations the pipeline need not build)."""
    message = SmsMessage(
        company_id=company_id,
        phone=phone,
        body=body,
        direction=direction,
        kind=Kind.INBOUND if direction == Direction.INBOUND else fields.pop("kind", "manual"),
        status=status,
        sender_number=fields.pop("sender_number", NUMBER),
        **fields,
    )
    db.session.add(message)
    db.session.commit()
    return message.id


def add_reply(company_id, phone, body, **fields):
    return add_message(
        company_id, phone, body, direction=Direction.INBOUND, status=Status.RECEIVED, **fields
    )


def message_rows() -> list[tuple]:
    db.session.expire_all()
    return db.session.execute(
        select(SmsMessage.id, SmsMessage.status, SmsMessage.failure_code).order_by(SmsMessage.id)
    ).all()


def inbox_rows(response) -> dict[str, str]:
    """Map each inbox row's phone to the row's HTML."""
    assert response.status_code == 200
    rows = re.findall(r'<tr data-phone="([^"]+)".*?</tr>', response.text, re.S)
    html = re.findall(r'(<tr data-phone="[^"]+".*?</tr>)', response.text, re.S)
    return dict(zip(rows, html, strict=True))


def conversation_rows(response) -> list[str]:
    return re.findall(r"(<tr data-direction=.*?</tr>)", page_text(response), re.S)


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
    assert "Failed" in failed and "The carrier refused it." in failed
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
        # Nothing scheduled; the send service keeps the refusal as one Failed record
        # (its audit trail, as on the customer's SMS tab), with the reason.
        assert after[: len(before)] == before
        assert [(row.status, row.failure_code) for row in added] == [(Status.FAILED, code)]


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


# The operator and strangers ----------------------------------------------------------------


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
    assert re.search(r"1[01]:04:00\sAM", text)  # 15:04 UTC is 10:04 or 11:04 in Toronto
