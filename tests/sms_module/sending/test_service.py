"""The one send service: each rule refuses with its reason, and nothing else gets through."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from host.extensions import db
from host.models import Company, Customer
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import service, withdrawal
from plugins.sms_module.texts import pricing
from tests.support_sms import give_consent, module_on, ready_to_send


def count_messages() -> int:
    """Count the messages other than first-SMS disclaimers."""
    return db.session.scalar(
        select(func.count(SmsMessage.id)).where(SmsMessage.kind != "disclaimer")
    )


def test_accepted_message_is_scheduled_with_its_history(app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        message = service.request_send(company, customer=customer, body="Votre auto est prete")
        assert message.status == Status.QUEUED  # due now: the pipeline queued it at once
        assert [h.status for h in message.history] == [
            Status.ACCEPTED,
            Status.SCHEDULED,
            Status.QUEUED,
        ]
        assert message.phone == customer.mobile_phone
        assert (message.segments, message.encoding) == (1, "GSM-7")
        assert message.price == message.price_per_segment * 1
        assert message.send_at is not None and message.queue == "transactional"


def test_send_at_in_the_future_is_kept_and_the_past_becomes_now(app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        later = datetime.now(UTC) + timedelta(hours=5)
        assert (
            service.request_send(company, customer=customer, body="a", send_at=later).send_at
            == later
        )
        past = service.request_send(
            company, customer=customer, body="b", send_at=later - timedelta(days=3)
        )
        assert past.send_at > datetime.now(UTC) - timedelta(minutes=1)


def refusal(company, **kwargs) -> service.SendRefused:
    with pytest.raises(service.SendRefused) as caught:
        service.request_send(company, **kwargs)
    return caught.value


def test_module_off_refuses_with_how_to_switch_it_on(app, shops):
    with app.app_context():
        company = db.session.get(Company, shops["a"]["shop"])
        customer = db.session.get(Customer, shops["a"]["customer"])
        give_consent(customer.id)
        refused = refusal(company, customer=customer, body="hi")
        assert refused.code == "module_off" and "124" in refused.message


def test_missing_country_or_province_refuses_and_says_where(app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        company.province = None
        db.session.commit()
        refused = refusal(company, customer=customer, body="hi")
        assert refused.code == "location_missing"
        assert "Company management" in refused.message
        kept = db.session.get(SmsMessage, refused.message_id)
        assert kept.status == Status.FAILED and kept.failure_code == "location_missing"
        assert kept.send_at is None  # never scheduled


def test_no_consent_refuses_and_the_refusal_is_kept(app, shops):
    with app.app_context():
        module_on(shops["a"]["shop"])
        company = db.session.get(Company, shops["a"]["shop"])
        customer = db.session.get(Customer, shops["a"]["customer"])
        refused = refusal(company, customer=customer, body="hi")
        assert refused.code == "no_consent"
        kept = db.session.get(SmsMessage, refused.message_id)
        assert (kept.customer_id, kept.failure_code) == (customer.id, "no_consent")
        assert [h.status for h in kept.history] == [Status.FAILED]


def test_opted_out_phone_is_refused_for_every_shop(app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        # Shop B has a customer with the same phone: STOP to shop B stops shop A too.
        opt_out.opt_out(customer.mobile_phone, "sms_keyword", shops["b"]["shop"], "STOP")
        db.session.commit()
        assert refusal(company, customer=customer, body="hi").code == "opted_out"
        opt_out.opt_in(customer.mobile_phone, "sms_keyword", shops["b"]["shop"], "START")
        db.session.commit()
        assert service.request_send(company, customer=customer, body="hi").status == Status.QUEUED


@pytest.mark.parametrize(
    "kwargs,code",
    [
        ({"body": ""}, "empty_body"),
        ({"body": "   "}, "empty_body"),
        ({"body": "x" * 1601}, "too_long"),
        ({"body": "Ready\x00"}, "invalid_characters"),
        ({"body": "hi", "queue": "bulk"}, "invalid_queue"),
        ({"body": "hi", "queue": "promotional"}, "promotional_needs_campaign"),
    ],
)
def test_bad_requests_are_refused(app, shops, kwargs, code):
    with app.app_context():
        company, customer = ready_to_send(shops)
        assert refusal(company, customer=customer, **kwargs).code == code


@pytest.mark.parametrize(
    "kwargs,code",
    [
        ({"body": ""}, "empty_body"),
        ({"body": " \n\t "}, "empty_body"),
        ({"body": "Your car\x00 is ready"}, "invalid_characters"),
        ({"body": "x" * 1601}, "too_long"),
        ({"body": "hi", "queue": "bulk"}, "invalid_queue"),
    ],
)
def test_a_malformed_request_is_a_form_error_and_stores_nothing(app, shops, kwargs, code):
    # Issue 11 §5: an empty text is no message; only a rule's refusal keeps an audit row.
    with app.app_context():
        company, customer = ready_to_send(shops)
        before = count_messages()
        refused = refusal(company, customer=customer, **kwargs)
        assert refused.code == code and refused.message_id is None
        assert count_messages() == before


def test_an_empty_text_is_a_form_error_even_when_a_rule_would_refuse_too(app, shops):
    # The shop's module is off and the body blank: the form error comes first, no row.
    with app.app_context():
        company, customer = ready_to_send(shops)
        company.country = None
        db.session.commit()
        before = count_messages()
        assert refusal(company, customer=customer, body="   ").code == "empty_body"
        assert count_messages() == before


def test_raw_numbers_need_a_consenting_customer_of_the_shop(app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        assert refusal(company, to="not a phone", body="hi").code == "invalid_phone"
        assert refusal(company, to="+1 416 555 0199", body="hi").code == "no_consent"
        before = count_messages()
        # An unknown number leaves no row: there is no customer to keep it for.
        refusal(company, to="+1 416 555 0199", body="hi")
        assert count_messages() == before
        message = service.request_send(company, to="514-555-0101", body="hi")
        assert message.customer_id == customer.id and message.phone == "+15145550101"


def test_customer_without_phone_is_refused(app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        customer.mobile_phone = None
        db.session.commit()
        assert refusal(company, customer=customer, body="hi").code == "no_phone"


def test_same_dedupe_key_sends_once(app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        first = service.request_send(company, customer=customer, body="hi", dedupe_key="evt-1")
        again = service.request_send(company, customer=customer, body="hi", dedupe_key="evt-1")
        assert first.id == again.id and count_messages() == 1


def test_cancel_scheduled_cancels_only_what_has_not_left(app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        waiting = service.request_send(company, customer=customer, body="later")
        sent = service.request_send(company, customer=customer, body="gone")
        from plugins.sms_module.models import lifecycle

        for status in (Status.QUEUED, Status.SENDING, Status.SENT):
            lifecycle.move(sent, status, "module")
        db.session.commit()
        assert withdrawal.cancel_scheduled(customer.id, "module", "consent withdrawn") == 1
        assert db.session.get(SmsMessage, waiting.id).status == Status.CANCELED
        assert db.session.get(SmsMessage, sent.id).status == Status.SENT


def test_price_follows_the_operator_setting(app, shops):
    from decimal import Decimal

    with app.app_context():
        company, customer = ready_to_send(shops)
        pricing.set_pricing(Decimal("0.0200"), "usd")
        message = service.request_send(company, customer=customer, body="é" + "x" * 200)
        # é is GSM: 201 characters = 2 segments.
        assert (message.segments, message.price, message.currency) == (2, Decimal("0.04"), "USD")
        with pytest.raises(ValueError):
            pricing.set_pricing(Decimal("-1"), "CAD")
        with pytest.raises(ValueError):
            pricing.set_pricing(Decimal("1"), "dollars")
