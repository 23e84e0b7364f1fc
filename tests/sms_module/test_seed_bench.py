"""``crmhost sms seed-bench`` (issue 14, point 3): a realistic platform's traffic in bulk,
that the reports read like the product's own rows."""

from __future__ import annotations

import phonenumbers
import pytest
from sqlalchemy import func, select

from host.extensions import db
from host.models import Company, Customer
from plugins.sms_module.models import (
    ConsentEvent,
    Conversation,
    OptOut,
    SmsMessage,
    SmsStatusChange,
)
from plugins.sms_module.models.statuses import TRANSITIONS, Status
from tests.conftest import login
from tests.sms_module.reports.support import NEW_REPORTS

PAGES = (*NEW_REPORTS, "sms_consent_register")


@pytest.fixture
def seeded(app, runner):
    result = runner.invoke(args=["sms", "seed-bench", "--messages", "2000", "--shops", "5"])
    assert result.exit_code == 0, result.output
    return result


def test_it_seeds_the_messages_asked_with_their_history(app, seeded):
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 2000
        changes = db.session.scalar(select(func.count()).select_from(SmsStatusChange))
        assert 3 * 2000 <= changes <= 5 * 2000
        # Every message's status is its last history step, reached by allowed moves.
        steps: dict[int, list[Status]] = {}
        rows = db.session.execute(
            select(SmsStatusChange.message_id, SmsStatusChange.status).order_by(SmsStatusChange.id)
        )
        for message_id, status in rows:
            steps.setdefault(message_id, []).append(status)
        messages = db.session.execute(select(SmsMessage.id, SmsMessage.status)).all()
        assert len(steps) == 2000
        for message_id, status in messages:
            path = steps[message_id]
            assert path[-1] == status
            assert all(b in TRANSITIONS[a] for a, b in zip(path, path[1:], strict=False))


def test_it_covers_every_status_and_kind_with_real_codes(app, seeded):
    with app.app_context():
        by_status = dict(
            db.session.execute(
                select(SmsMessage.status, func.count()).group_by(SmsMessage.status)
            ).all()
        )
        assert by_status[Status.DELIVERED] > 0.7 * 2000
        for status in (Status.SENT, Status.UNDELIVERED, Status.FAILED, Status.CANCELED):
            assert by_status.get(status, 0) > 0, status
        assert by_status.get(Status.SCHEDULED, 0) > 0 and by_status.get(Status.RECEIVED, 0) > 0
        codes = set(
            db.session.scalars(
                select(SmsMessage.failure_code).where(SmsMessage.status == Status.UNDELIVERED)
            )
        )
        assert codes and codes <= {"30003", "30005", "30006", "30007", "30008"}
        kinds = set(db.session.scalars(select(SmsMessage.kind).distinct()))
        assert {"disclaimer", "campaign", "inbound", "appointment_reminder"} <= kinds
        campaign_queues = set(
            db.session.scalars(select(SmsMessage.queue).where(SmsMessage.kind == "campaign"))
        )
        assert campaign_queues == {"promotional"}


def test_customers_conversations_and_ledgers_are_consistent(app, seeded):
    with app.app_context():
        shops = db.session.execute(
            select(Company.id, func.count(SmsMessage.id))
            .join(SmsMessage, SmsMessage.company_id == Company.id)
            .group_by(Company.id)
            .order_by(Company.id)
        ).all()
        assert len(shops) == 5 and shops[0][1] > 3 * shops[-1][1]  # a big shop, small ones
        phones = list(db.session.scalars(select(Customer.mobile_phone)))
        assert len(set(phones)) == len(phones)
        for phone in phones[:200]:
            assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
            assert phonenumbers.region_code_for_number(phonenumbers.parse(phone)) == "CA"
        given = db.session.scalar(
            select(func.count()).select_from(ConsentEvent).where(ConsentEvent.kind == "given")
        )
        assert given == len(phones)
        # Replies come from a phone that has a conversation with the shop, on its number.
        replies = db.session.execute(
            select(SmsMessage.company_id, SmsMessage.phone, SmsMessage.sender_number).where(
                SmsMessage.direction == "inbound"
            )
        ).all()
        sticky = {
            (c.company_id, c.phone): c.sender_number.number
            for c in db.session.scalars(
                select(Conversation).where(Conversation.queue == "transactional")
            )
        }
        assert replies and all(sticky[(shop, phone)] == number for shop, phone, number in replies)
        assert db.session.scalar(select(func.count()).select_from(OptOut)) > 0


def test_it_refuses_a_database_with_messages_unless_appending(app, runner, seeded):
    again = runner.invoke(args=["sms", "seed-bench", "--messages", "10"])
    assert again.exit_code == 2 and "--append" in again.output
    more = runner.invoke(args=["sms", "seed-bench", "--messages", "50", "--shops", "2", "--append"])
    assert more.exit_code == 0, more.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 2050
        assert db.session.scalar(select(func.count()).select_from(Company)) == 7


def test_a_seeded_shops_report_pages_answer(app, client, seeded):
    with app.app_context():
        shop_id = db.session.scalar(select(func.min(Company.id)))
    login(client, f"admin-{shop_id}@seed.example", "seed-bench")
    for name in PAGES:
        assert client.get(f"/reports/{name}").status_code == 200, name
    assert client.get("/sms/replies/").status_code == 200
