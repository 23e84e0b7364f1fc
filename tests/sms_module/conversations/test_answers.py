"""STOP, START and HELP (PRODUCT.md §5): acted on platform-wide and answered from the
number written to."""

from __future__ import annotations

import pytest

from host.extensions import db
from plugins.sms_module import jobs
from plugins.sms_module.carriers.simulator import SimulatorCarrier
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import OptOutAction
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
