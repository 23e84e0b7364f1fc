"""A first-SMS disclaimer that fails at the carrier (PRODUCT.md §5, §6): the message waiting
for it fails too, once, never billed, and no new disclaimer follows; a transient error is
retried on the same disclaimer; never two disclaimers to a phone on their way at once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from host.extensions import db
from host.models import Customer
from host.redis_connection import get_redis
from plugins.sms_module import jobs
from plugins.sms_module.models import SmsMessage, Source, lifecycle
from plugins.sms_module.models.statuses import Status, is_refusal
from plugins.sms_module.sending import service
from plugins.sms_module.texts import reasons
from tests.support_pipeline import carrier, in_process_app, message
from tests.support_sms import ready_to_send

INVALID_TO = "+15145550211"  # the simulator refuses it at once: Twilio error 21211
UNAVAILABLE = "+15145550503"  # the simulator answers 503, every time (transient)
UNREACHABLE = "+15145550666"  # accepted, later reported undelivered (30003)


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


def welcome_to(shops, phone: str, body: str = "Bienvenue chez nous") -> tuple[int, int]:
    """Accept a message for shop A's customer, whose mobile phone is ``phone`` and who never
    had a disclaimer; return the ids of the message and of its disclaimer."""
    company, customer = ready_to_send(shops, disclaimed=False)
    customer = db.session.get(Customer, customer.id)
    customer.mobile_phone = phone
    db.session.commit()
    mid = service.request_send(company, customer=customer, body=body, kind="welcome").id
    return mid, newest_disclaimer(phone).id


def disclaimers(phone: str) -> list[SmsMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SmsMessage)
            .where(SmsMessage.phone == phone, SmsMessage.kind == "disclaimer")
            .order_by(SmsMessage.id)
        )
    )


def newest_disclaimer(phone: str) -> SmsMessage:
    return disclaimers(phone)[-1]


def run_everything(phone: str, rounds: int = 5) -> None:
    """Run the send job of every message to ``phone``, several times over, as workers
    would (in either order, again and again)."""
    for _ in range(rounds):
        db.session.expire_all()
        ids = db.session.scalars(select(SmsMessage.id).where(SmsMessage.phone == phone)).all()
        for mid in sorted(ids, reverse=True):
            jobs.send_message(mid)


def english(m: SmsMessage) -> str:
    with force_locale("en"):
        return reasons.failure_text(m.failure_code, m.failure_reason)


def test_a_disclaimer_the_carrier_refuses_fails_its_message_once(app, shops):
    # The reviewer's example: 514 555 0211, error 21211 "invalid To number".
    with app.test_request_context():
        mid, first = welcome_to(shops, INVALID_TO)
        assert jobs.send_message(mid) == "waiting for the disclaimer"
        assert jobs.send_message(first) == "failed: 21211"
        assert jobs.send_message(mid) == "refused: disclaimer_failed"
        welcome = message(mid)
        assert welcome.status == Status.FAILED
        assert welcome.failure_code == "disclaimer_failed"
        assert welcome.failure_reason == "disclaimer_failed: 21211"
        # The §5 rule stopped it before any carrier had it: shown and counted as refused.
        assert is_refusal(welcome.status, welcome.failure_code)
        assert welcome.attempts == 0 and welcome.cost == Decimal("0")  # never billed
        assert english(welcome) == (
            "The first-SMS disclaimer to this phone failed, so this message was not sent: "
            "The number is not a valid phone number."
        )
        # Running every job again, many times: no new disclaimer, nothing more sent.
        run_everything(INVALID_TO)
        [only] = disclaimers(INVALID_TO)
        assert only.id == first and only.status == Status.FAILED and only.attempts == 1
        assert message(mid).status == Status.FAILED and message(mid).attempts == 0
        assert [h.status for h in message(mid).history].count(Status.FAILED) == 1
        assert carrier(app).sent_count() == 0


def test_a_new_request_after_a_failed_disclaimer_gets_one_new_try(app, shops):
    with app.test_request_context():
        mid, first = welcome_to(shops, INVALID_TO)
        run_everything(INVALID_TO)
        assert message(mid).failure_code == "disclaimer_failed"
        company, customer = ready_to_send(shops, disclaimed=False)
        later = service.request_send(company, customer=customer, body="Votre rendez-vous").id
        assert len(disclaimers(INVALID_TO)) == 2  # one new try for the new request
        run_everything(INVALID_TO)
        assert len(disclaimers(INVALID_TO)) == 2
        assert message(later).status == Status.FAILED
        assert message(later).failure_code == "disclaimer_failed"


def test_a_transient_disclaimer_failure_retries_the_same_disclaimer(app, shops):
    # 514 555 0503: the carrier is unavailable every time.
    limit = app.config["SMS_MAX_ATTEMPTS"]
    with app.test_request_context():
        mid, first = welcome_to(shops, UNAVAILABLE)
        outcomes, waiting = [], []
        for _ in range(limit + 3):
            outcomes.append(jobs.send_message(first))
            waiting.append(jobs.send_message(mid))
        assert (
            outcomes == ["retry"] * (limit - 1) + ["failed: carrier_error"] + ["nothing to do"] * 3
        )
        # It waits while the same disclaimer is retried, then fails once.
        assert (
            waiting
            == ["waiting for the disclaimer"] * (limit - 1)
            + ["refused: disclaimer_failed"]
            + ["nothing to do"] * 3
        )
        [only] = disclaimers(UNAVAILABLE)
        assert only.id == first and only.attempts == limit and only.status == Status.FAILED
        welcome = message(mid)
        assert welcome.status == Status.FAILED and welcome.attempts == 0
        assert welcome.failure_reason == "disclaimer_failed: carrier_error"
        run_everything(UNAVAILABLE)
        assert len(disclaimers(UNAVAILABLE)) == 1
        assert newest_disclaimer(UNAVAILABLE).attempts == limit


def test_a_disclaimer_reported_undelivered_fails_the_message_waiting_for_it(app, shops):
    with app.test_request_context():
        mid, first = welcome_to(shops, UNREACHABLE)
        assert jobs.send_message(first) == "sent"
        note = message(first)
        lifecycle.fail(note, "30003", None, Source.PROVIDER_CALLBACK, status=Status.UNDELIVERED)
        db.session.commit()
        assert jobs.send_message(mid) == "refused: disclaimer_failed"
        assert english(message(mid)).endswith("The phone is unreachable (off, or out of coverage).")
        run_everything(UNREACHABLE)
        assert len(disclaimers(UNREACHABLE)) == 1
        assert carrier(app).sent_count() == 1  # the disclaimer only


def test_a_disclaimer_refused_by_a_rule_is_written_again_once(app, shops):
    # Not the carrier's doing (canceled, or refused before it left): the waiting message
    # gets one new disclaimer, which goes first.
    with app.test_request_context():
        mid, first = welcome_to(shops, "+15145550123")
        lifecycle.withdraw(message(first), Source.STAFF, "canceled_by_staff")
        db.session.commit()
        assert jobs.send_message(mid) == "waiting for the disclaimer"
        assert jobs.send_message(mid) == "waiting for the disclaimer"
        assert len(disclaimers("+15145550123")) == 2
        run_everything("+15145550123")
        assert [m.status for m in disclaimers("+15145550123")] == [Status.CANCELED, Status.SENT]
        assert message(mid).status == Status.SENT


def test_never_two_disclaimers_on_their_way_to_a_phone(app, shops):
    # Another process is writing this phone's disclaimer: neither acceptance nor the send
    # job writes a second one; once it is done, the send job writes the one missing.
    phone = "+15145550124"
    with app.test_request_context():
        company, customer = ready_to_send(shops, disclaimed=False)
        customer = db.session.get(Customer, customer.id)
        customer.mobile_phone = phone
        db.session.commit()
        key = f"sms:disclaimer:writing:{company.id}:{phone}"
        get_redis().set(key, 1, ex=30)
        mid = service.request_send(company, customer=customer, body="Bonjour").id
        assert disclaimers(phone) == []
        assert jobs.send_message(mid) == "waiting for the disclaimer"
        assert disclaimers(phone) == []
        get_redis().delete(key)
        assert jobs.send_message(mid) == "waiting for the disclaimer"
        assert jobs.send_message(mid) == "waiting for the disclaimer"
        assert len(disclaimers(phone)) == 1
        run_everything(phone)
        assert [m.status for m in disclaimers(phone)] == [Status.SENT]
        assert message(mid).status == Status.SENT
        assert carrier(app).sent_count() == 2
