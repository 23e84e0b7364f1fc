"""``crmhost sms seed-bench`` (issue 14, point 3): a realistic platform's traffic in bulk,
that the reports read like the product's own rows."""

from __future__ import annotations

from datetime import UTC, datetime

import phonenumbers
import pytest
from sqlalchemy import func, select, text

from host.extensions import db
from host.models import Company, Customer
from plugins.sms_module.models import (
    ConsentEvent,
    Conversation,
    OptOut,
    OptOutEvent,
    SmsMessage,
    SmsStatusChange,
)
from plugins.sms_module.models.statuses import TRANSITIONS, Status, is_refusal
from tests.conftest import login
from tests.sms_module.reports.support import NEW_REPORTS

PAGES = (*NEW_REPORTS, "sms_consent_register")
# Every table seed-bench writes rows of, as its summary names them.
SEEDED = (
    "company", "company_option", "user", "sms_campaign", "customer", "sms_message",
    "sms_status_change", "sms_conversation", "sms_opt_out", "sms_opt_out_event",
    "sms_consent_event",
)  # fmt: skip


# The moment the seeds end at: 90 days of traffic before it, and what still waits after it,
# fall on the same days and hours whenever the tests run (a Wednesday afternoon).
SEEDED_AT = datetime(2026, 3, 11, 16, 0, tzinfo=UTC)


@pytest.fixture
def seeded(app, runner, time_machine):
    time_machine.move_to(SEEDED_AT)
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


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {t: db.session.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in SEEDED}


def summary(output: str) -> dict[str, int]:
    """The rows by table of seed-bench's summary ("2,000 sms_message, 7,564 …")."""
    line = next(line for line in output.splitlines() if " sms_message" in line)
    counted = (entry.split(" ") for entry in line.split(", "))
    return {table: int(count.replace(",", "")) for count, table in counted}


def test_the_summary_counts_the_rows_each_run_wrote(app, runner):
    runs = (["--messages", "800", "--shops", "3"], ["--messages", "300", "--shops", "2"])
    before = row_counts(app)
    for i, args in enumerate(runs):
        result = runner.invoke(args=["sms", "seed-bench", *args, *(["--append"] * i)])
        assert result.exit_code == 0, result.output
        after = row_counts(app)
        # An appended run counts from its own first row, every consent line included.
        assert summary(result.output) == {t: after[t] - before[t] for t in SEEDED}
        before = after


def ledger_explains(app) -> tuple[int, int, int]:
    """Check that the consent ledger and opt-out list explain every text, refusal and
    cancel of the seeded messages; return how many were texted, refused, and canceled
    as the consent was withdrawn."""
    with app.app_context():
        ledger: dict[int, list[ConsentEvent]] = {}
        for line in db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)):
            ledger.setdefault(line.customer_id, []).append(line)
        opt_outs = {}
        for phone, at in db.session.execute(select(OptOutEvent.phone, OptOutEvent.at)):
            opt_outs.setdefault(phone, []).append(at)
        # Each customer's consent given first, as the customer form records it, and its
        # history in the order of its moments (the ledger is append-only).
        for customer_id in db.session.scalars(select(Customer.id)):
            lines = ledger[customer_id]
            given = lines[0]
            assert given.kind == "given" and given.method and given.reference
            assert (given.obtained_at.hour, given.obtained_at.minute) == (12, 0)
            assert [e.kind for e in lines].count("given") == 1
            moments = [e.obtained_at for e in lines[1:]]
            assert moments == sorted(moments) and all(given.obtained_at < t for t in moments)
        texted = refused = 0
        for m in db.session.scalars(select(SmsMessage).where(SmsMessage.direction == "outbound")):
            said = [e.kind for e in ledger[m.customer_id] if e.obtained_at <= m.created_at]
            said = [kind for kind in said if kind in ("given", "withdrawn")]
            if m.kind == "keyword_answer":
                continue  # the answer to STOP: the phone asked for it, consent or not
            if not is_refusal(m.status, m.failure_code):
                texted += 1
                assert said[-1] == "given", m.id  # consent on record when it was sent
            elif m.failure_code == "no_consent":
                refused += 1
                assert said[-1] == "withdrawn", m.id
            else:
                refused += 1
                assert m.failure_code == "opted_out", m.id
                assert any(at <= m.created_at for at in opt_outs.get(m.phone, [])), m.id
        # Canceled as the consent was withdrawn: by the customer's withdrawal, then.
        canceled = db.session.execute(
            select(SmsMessage.customer_id, SmsStatusChange.at)
            .join(SmsStatusChange, SmsStatusChange.message_id == SmsMessage.id)
            .where(SmsStatusChange.detail == "consent_withdrawn")
        ).all()
        for customer_id, at in canceled:
            assert at in [e.obtained_at for e in ledger[customer_id] if e.kind == "withdrawn"]
        # The disclaimers are in the ledger with their carrier SID, as the send path keeps them.
        sids = {e.reference for lines in ledger.values() for e in lines}
        disclaimers = select(SmsMessage.provider_sid).where(SmsMessage.kind == "disclaimer")
        assert set(db.session.scalars(disclaimers)) <= sids
    return texted, refused, len(canceled)


def test_the_consent_ledger_explains_every_text_and_refusal(app, seeded):
    texted, refused, _ = ledger_explains(app)
    assert texted > 1500 and refused > 0


def test_a_consent_withdrawn_cancels_what_still_waits(app, runner, monkeypatch, time_machine):
    # Many withdrawals: a message still Scheduled at the end, or canceled while one came,
    # is canceled by it (no message waits for a customer whose consent is withdrawn).
    monkeypatch.setattr("plugins.sms_module.seed_bench.traffic.WITHDRAW_SHARE", 0.4)
    time_machine.move_to(SEEDED_AT)
    result = runner.invoke(args=["sms", "seed-bench", "--messages", "2000", "--shops", "3"])
    assert result.exit_code == 0, result.output
    texted, refused, canceled = ledger_explains(app)
    assert texted > 1000 and refused > 100 and canceled > 0, (texted, refused, canceled)
