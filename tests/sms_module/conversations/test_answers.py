"""STOP, START and HELP (PRODUCT.md §5): acted on platform-wide and answered from the
number written to."""

from __future__ import annotations

import pytest

from host.extensions import db
from plugins.sms_module import jobs
from plugins.sms_module.carriers.simulator import SimulatorCarrier
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import OptOutAction, ShopSmsSettings
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import service
from tests.sms_module.conversations.support import (
    answers,
    forward_job,
    inbound_messages,
    post_inbound,
    sent_to,
)
from tests.support_pipeline import in_process_app, message
from tests.support_sms import ready_to_send


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app)


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


# Opt-out in any reasonable words (issue 11: FCC 47 CFR 64.1200(a)(10), CTIA) ----------------


@pytest.mark.parametrize(
    "body",
    ["opt out", "Opt-out", "stop all", "stop please", "Stop,", "Désabonnez-moi", "Arrêtez SVP"],
)
def test_an_opt_out_phrase_opts_the_phone_out_everywhere(client, app, shops, body):
    with app.app_context():
        ours = sent_to(shops)
    post_inbound(client, app, phone=ours.phone, to=ours.sender_number, body=body)
    with app.app_context():
        assert opt_out.is_opted_out(ours.phone)
        (event,) = opt_out.events(ours.phone)
        assert (event.action, event.source, event.raw_message) == (
            OptOutAction.OPT_OUT,
            "sms_keyword",
            body,
        )
        (answer,) = answers()
        assert answer.sender_number == ours.sender_number and "DEBUT" in answer.body
        (reply,) = inbound_messages()
        assert reply.forwarded_at is not None and forward_job(reply.id) is None
        company, customer = ready_to_send(shops, "b")  # another shop, the same phone
        customer.mobile_phone = ours.phone
        db.session.commit()
        with pytest.raises(service.SendRefused) as refused:
            service.request_send(company, customer=customer, body="Promo")
        assert refused.value.code == "opted_out"


@pytest.mark.parametrize(
    "body",
    ["Don't stop sending me deals", "I'll stop by tomorrow", "please don't text me anymore"],
)
def test_a_sentence_is_no_opt_out_and_reaches_the_shop(client, app, shops, body):
    with app.app_context():
        ours = sent_to(shops)
    post_inbound(client, app, phone=ours.phone, to=ours.sender_number, body=body)
    with app.app_context():
        assert not opt_out.is_opted_out(ours.phone) and opt_out.events(ours.phone) == []
        assert answers() == []
        (reply,) = inbound_messages()
        assert forward_job(reply.id) is not None  # the shop reads it (and sees it flagged)


def test_the_stop_answer_names_every_shop_and_how_to_come_back(client, app, shops):
    with app.app_context():
        ours = sent_to(shops)  # Garage A, in Quebec: French
        company, customer = ready_to_send(shops, "b")  # Garage B, in Ontario: English
        to_b = sent_to(shops, "b")
    post_inbound(client, app, sid="SM1", phone=ours.phone, to=ours.sender_number, body="Stop,")
    post_inbound(client, app, sid="SM2", phone=to_b.phone, to=to_b.sender_number, body="STOP")
    post_inbound(client, app, sid="SM3", phone="+15145559876", body="stop")  # nobody's
    with app.app_context():
        french, english, nobody = (a.body for a in answers())
    assert french == (
        "Garage A : désabonnement confirmé. Ni Garage A ni aucun autre commerce qui utilise ce "
        "service de textos ne vous écrira plus. Répondez DEBUT pour vous réabonner."
    )
    assert english == (
        "Garage B: you are unsubscribed. Neither Garage B nor any other shop using this texting "
        "service will text you again. Reply START to subscribe again."
    )
    assert "no shop using this texting service" in nobody and "START" in nobody
    assert "aucun commerce qui utilise ce service" in nobody and "DEBUT" in nobody


def test_help_names_the_shop_its_contact_number_and_that_rates_may_apply(client, app, shops):
    app.config.update(SMS_HELP_PHONE="+18005550199")
    with app.app_context():
        ours = sent_to(shops)  # Garage A, French
        to_b = sent_to(shops, "b")  # Garage B, English, saved its own contact number
        db.session.merge(
            ShopSmsSettings(company_id=shops["b"]["shop"], contact_phone="+14165550123")
        )
        db.session.commit()
    post_inbound(client, app, sid="SM1", phone=ours.phone, to=ours.sender_number, body="Aide")
    post_inbound(client, app, sid="SM2", phone=to_b.phone, to=to_b.sender_number, body="help")
    post_inbound(client, app, sid="SM3", phone="+15145559876", body="HELP please")  # nobody's
    with app.app_context():
        french, english, nobody = (a.body for a in answers())
    assert english == (
        "Garage B: SMS about your appointments, vehicle and invoices. Contact us: "
        "(416) 555-0123. Message and data rates may apply. Reply STOP to unsubscribe."
    )
    # Garage A saved none: the platform's number.
    assert french.startswith("Garage A : textos au sujet de vos rendez-vous")
    assert "Pour nous joindre : (800) 555-0199." in french
    assert "Des frais de messagerie et de données peuvent s'appliquer." in french
    assert "Contact us: (800) 555-0199." in nobody and "Message and data rates" in nobody


def test_help_without_any_contact_number_leaves_the_number_out(client, app, shops):
    app.config.update(SMS_HELP_PHONE=None)
    with app.app_context():
        to_b = sent_to(shops, "b")
    post_inbound(client, app, phone=to_b.phone, to=to_b.sender_number, body="help")
    with app.app_context():
        (answer,) = answers()
    assert answer.body == (
        "Garage B: SMS about your appointments, vehicle and invoices. Message and data rates "
        "may apply. Reply STOP to unsubscribe."
    )
