"""What the reply page shows of a conversation (issue 11): never a refused or blank message as
its last message, and a reply that asks to stop in other words flagged to the shop, which
may opt the phone out from there."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from host.extensions import db
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import Kind, OptOutAction, SmsMessage, Source
from plugins.sms_module.models.statuses import Status
from tests.conftest import login
from tests.sms_module.views.support import (
    add_message,
    add_reply,
    conversation_rows,
    inbox_rows,
    routed_reply,
)
from tests.support_pages import page_text
from tests.support_pipeline import in_process_app
from tests.support_sms import login_en, module_on

FLAG = 'data-flag="opt-out"'


@pytest.fixture
def app(make_app, redis_url, time_machine):
    """A weekday morning, shop time: a staff answer leaves at once, whatever the hour."""
    time_machine.move_to(
        datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/Toronto")), tick=True
    )
    return in_process_app(make_app)


# The last message of a conversation ------------------------------------------------------


def test_the_inbox_never_shows_a_refused_blank_line_as_the_last_message(client, app, shops):
    with app.app_context():
        shop = shops["a"]["shop"]
        module_on(shop)
        phone, other = "+15145550190", "+15145550191"
        add_message(shop, phone, "Votre auto est prête")
        add_reply(shop, phone, "Je passe à 17 h")
        add_reply(shop, other, "Merci")  # a newer conversation, once
        # Our attempts after the reply that never left: blank and refused, refused, Canceled.
        for body, status, code in [
            ("", Status.FAILED, "empty_body"),
            ("   ", Status.FAILED, "empty_body"),
            ("Rappel", Status.FAILED, "opted_out"),
            ("Rappel annulé", Status.CANCELED, None),
        ]:
            add_message(shop, phone, body, status=status, failure_code=code, sender_number=None)
    login_en(client, shops["a"]["staff"])
    response = client.get("/sms/replies/")
    rows = inbox_rows(response)
    # The refused lines neither show nor move the conversation up the inbox.
    assert list(rows) == [other, phone]
    assert "Je passe à 17 h" in rows[phone] and "You:" not in rows[phone]
    # The conversation itself still shows every line, with its status.
    lines = conversation_rows(client.get(f"/sms/replies/{phone}"))
    assert len(lines) == 6 and "Refused" in lines[2] and "Canceled" in lines[5]


def test_a_message_that_left_stays_the_last_message(client, app, shops):
    with app.app_context():
        shop = shops["a"]["shop"]
        module_on(shop)
        phone = "+15145550190"
        add_reply(shop, phone, "Je passe à 17 h")
        add_message(shop, phone, "Parfait", kind=Kind.REPLY)
        add_message(shop, phone, "Non livré", status=Status.FAILED, failure_code="30003")
    login_en(client, shops["a"]["staff"])
    row = inbox_rows(client.get("/sms/replies/"))[phone]
    assert "You: Non livré" in row  # a carrier's failure was said: the carrier had it


# A reply that asks to stop in other words ------------------------------------------------


def test_a_reply_that_looks_like_an_opt_out_is_flagged_in_the_inbox_and_conversation(
    client, app, shops
):
    with app.app_context():
        phone, _number, _id = routed_reply(shops, body="please don't text me anymore")
        shop = shops["a"]["shop"]
        add_reply(shop, "+15145550190", "Don't stop sending me deals")
        add_reply(shop, "+15145550191", "I'll stop by tomorrow")
        assert not opt_out.is_opted_out(phone)  # flagged, not acted on
    login_en(client, shops["a"]["staff"])
    rows = inbox_rows(client.get("/sms/replies/"))
    assert FLAG in rows[phone] and "May ask to stop SMS" in rows[phone]
    assert FLAG not in rows["+15145550190"] and FLAG not in rows["+15145550191"]
    page = client.get(f"/sms/replies/{phone}")
    text = page_text(page)
    assert 'id="sms-opt-out-flag"' in text and "may ask to stop receiving SMS" in text
    assert f'action="/sms/replies/{phone}/opt-out"' in text
    (flagged,) = [row for row in conversation_rows(page) if FLAG in row]
    assert "please don" in flagged and 'data-direction="inbound"' in flagged
    # A reply after it that asks something else: the request is still to be handled.
    with app.app_context():
        add_reply(shops["a"]["shop"], phone, "Actually, what time tomorrow?")
    text = page_text(client.get(f"/sms/replies/{phone}"))
    assert FLAG in text and 'id="sms-opt-out-flag"' in text
    assert FLAG in inbox_rows(client.get("/sms/replies/"))[phone]


def test_the_shop_opts_a_flagged_phone_out_and_it_is_confirmed_once(client, app, shops):
    with app.app_context():
        phone, number, _id = routed_reply(shops, body="Veuillez ne plus m'écrire")
    login_en(client, shops["a"]["staff"])
    response = client.post(f"/sms/replies/{phone}/opt-out")
    assert response.status_code == 303 and response.location.endswith(f"/sms/replies/{phone}")
    with app.app_context():
        assert opt_out.is_opted_out(phone)
        (event,) = opt_out.events(phone)
        assert (event.action, event.source) == (OptOutAction.OPT_OUT, "staff")
        assert event.raw_message == "Veuillez ne plus m'écrire"
        assert event.company_id == shops["a"]["shop"]
        (confirmation,) = db.session.scalars(
            select(SmsMessage).where(SmsMessage.kind == Kind.KEYWORD_ANSWER)
        ).all()
        assert confirmation.sender_number == number and confirmation.phone == phone
        assert "Ni Garage A ni aucun autre commerce" in confirmation.body
        assert confirmation.created_by_id == shops["a"]["staff_id"]
    page = client.get(response.location)
    text = page_text(page)
    assert "The phone is opted out" in text and 'id="sms-opted-out"' in text
    assert 'id="sms-opt-out-flag"' not in text
    assert 'data-flag="opted-out"' in inbox_rows(client.get("/sms/replies/"))[phone]
    # Again: nothing more is recorded nor sent.
    again = client.post(f"/sms/replies/{phone}/opt-out", follow_redirects=True)
    assert "This phone is already opted out." in page_text(again)
    with app.app_context():
        assert len(opt_out.events(phone)) == 1
        kinds = db.session.scalars(select(SmsMessage.kind)).all()
        assert kinds.count(Kind.KEYWORD_ANSWER) == 1


def test_only_a_shop_opts_its_own_conversations_phone_out(client, app, shops):
    with app.app_context():
        phone, _number, _id = routed_reply(shops, body="Stop texting me")
        module_on(shops["b"]["shop"])
    login_en(client, shops["b"]["staff"])
    assert client.post(f"/sms/replies/{phone}/opt-out").status_code == 404
    assert client.post("/sms/replies/not-a-phone/opt-out").status_code == 404
    login(client, "operator@example.com")
    assert client.post(f"/sms/replies/{phone}/opt-out").status_code == 403
    with app.app_context():
        assert not opt_out.is_opted_out(phone) and opt_out.events(phone) == []


# A request to stop stays flagged until it is handled --------------------------------------


def lucs_conversation(shops) -> str:
    """Luc asks to stop in other words, then writes again about something else."""
    phone, _number, _id = routed_reply(shops, body="please don't text me anymore")
    add_reply(shops["a"]["shop"], phone, "Did you get my message?")
    return phone


def marks(client, phone) -> tuple[list[str], bool, str]:
    """Return the conversation's rows marked pending, whether the notice shows, and the
    inbox row."""
    page = client.get(f"/sms/replies/{phone}")
    pending = [row for row in conversation_rows(page) if FLAG in row]
    inbox = inbox_rows(client.get("/sms/replies/"))[phone]
    return pending, 'id="sms-opt-out-flag"' in page_text(page), inbox


def test_the_flag_stays_after_a_later_ordinary_reply_until_the_shop_answers(client, app, shops):
    with app.app_context():
        phone = lucs_conversation(shops)
    login_en(client, shops["a"]["staff"])
    pending, notice, row = marks(client, phone)
    assert FLAG in row and "Did you get my message?" in row  # the last message, still flagged
    assert notice and len(pending) == 1 and "please don" in pending[0]
    # An answer that reached nobody (Canceled) handles nothing.
    with app.app_context():
        add_message(shops["a"]["shop"], phone, "Oui", kind=Kind.REPLY, status=Status.CANCELED)
    assert FLAG in marks(client, phone)[2]
    # The shop answers from the reply page: the request is handled, its mark turns quiet.
    answer = client.post(f"/sms/replies/{phone}", data={"body": "Bien reçu, c'est noté."})
    assert answer.status_code == 303
    pending, notice, row = marks(client, phone)
    assert pending == [] and not notice and FLAG not in row
    page = page_text(client.get(f"/sms/replies/{phone}"))
    assert 'data-flag="opt-out-handled"' in page and "Looked like a request to stop SMS" in page
    with app.app_context():
        assert not opt_out.is_opted_out(phone)  # a flag never opts out by itself
        # A new request after the answer is flagged again, and only it is marked pending.
        add_reply(shops["a"]["shop"], phone, "Ne m'écrivez plus")
    pending, notice, row = marks(client, phone)
    assert FLAG in row and notice and len(pending) == 1 and "crivez plus" in pending[0]


def test_another_kind_of_outbound_message_does_not_handle_the_request(client, app, shops):
    with app.app_context():
        phone = lucs_conversation(shops)
        add_message(shops["a"]["shop"], phone, "Rappel : rendez-vous demain", kind=Kind.MANUAL)
    login_en(client, shops["a"]["staff"])
    assert FLAG in marks(client, phone)[2]


def test_an_opted_out_phone_is_not_flagged_and_a_later_start_keeps_the_old_request_handled(
    client, app, shops
):
    with app.app_context():
        phone = lucs_conversation(shops)
        opt_out.opt_out(phone, Source.SMS_KEYWORD, shops["a"]["shop"], "STOP")
        db.session.commit()
    login_en(client, shops["a"]["staff"])
    pending, notice, row = marks(client, phone)
    assert pending == [] and not notice
    assert FLAG not in row and 'data-flag="opted-out"' in row
    # The customer comes back with START: the request before it is no longer to act on...
    with app.app_context():
        opt_out.opt_in(phone, Source.SMS_KEYWORD, shops["a"]["shop"], "START")
        db.session.commit()
    pending, notice, row = marks(client, phone)
    assert pending == [] and not notice and FLAG not in row and "opted-out" not in row
    # ...but one after it is.
    with app.app_context():
        add_reply(shops["a"]["shop"], phone, "Wrong number, stop")
    pending, notice, row = marks(client, phone)
    assert FLAG in row and notice and len(pending) == 1 and "Wrong number" in pending[0]


def test_opting_out_keeps_the_text_that_asked_not_the_later_reply(client, app, shops):
    with app.app_context():
        phone = lucs_conversation(shops)
    login_en(client, shops["a"]["staff"])
    assert client.post(f"/sms/replies/{phone}/opt-out").status_code == 303
    with app.app_context():
        (event,) = opt_out.events(phone)
        assert event.raw_message == "please don't text me anymore"
    pending, notice, row = marks(client, phone)
    assert pending == [] and not notice and FLAG not in row


def test_the_flags_cost_the_inbox_no_query_per_conversation(client, app, shops):
    with app.app_context():
        shop = shops["a"]["shop"]
        module_on(shop)
        add_reply(shop, "+15145550200", "Ne me textez plus")
        engine = db.engine
    login_en(client, shops["a"]["staff"])
    statements = []

    def count(*_args):
        statements.append(1)

    def queries() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/sms/replies/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    one = queries()
    with app.app_context():
        for i in range(1, 6):  # five more flagged phones, some answered, one opted out
            phone = f"+1514555020{i}"
            add_reply(shop, phone, "Please remove my number")
            add_reply(shop, phone, "Hello?")
            if i % 2:
                add_message(shop, phone, "Noted", kind=Kind.REPLY)
        opt_out.opt_out("+15145550205", Source.STAFF, shop, "Please remove my number")
        db.session.commit()
    rows = inbox_rows(client.get("/sms/replies/"))
    assert [phone for phone, row in rows.items() if FLAG in row] == [
        "+15145550204",
        "+15145550202",
        "+15145550200",
    ]
    assert queries() == one
