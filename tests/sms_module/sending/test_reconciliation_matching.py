"""Reconciliation identifies a message, not a conversation (issue 15, point 2): a carrier
record is a message's only by its recipient, number, body and attempt window, a SID is
claimed once, and an ambiguous match is neither taken nor sent again: it waits.

Each "worker" runs in an app context of its own (a session of its own), and the second
message's create is slow: its record exists at the carrier while its worker, holding the
message's lease, has not recorded the SID yet."""

from __future__ import annotations

from datetime import timedelta

import pytest

from host.extensions import db
from host.models import utcnow
from host.redis_connection import get_redis
from plugins.sms_module import jobs
from plugins.sms_module.models import SmsMessage, Source
from plugins.sms_module.models.codes import Step
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import outbox, reconciliation
from plugins.sms_module.sending.delivery_reports import record_report
from tests.sms_module.sending.carrier_double import (
    CREATED,
    NOT_CREATED,
    CarrierDouble,
    use_double,
)
from tests.support_pipeline import accepted_message, in_process_app, message

FIRST, SECOND = "Votre auto est prête", "Votre facture est disponible"


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


@pytest.fixture
def double(monkeypatch) -> CarrierDouble:
    return use_double(monkeypatch)


def run(app, message_id: int) -> str:
    """Run the message's send job as another worker would: its own app context and session."""
    with app.app_context():
        return jobs.send_message(message_id)


def details(message_id: int) -> list[str]:
    return [h.detail or "" for h in message(message_id).history]


def test_the_retry_of_a_failed_create_does_not_take_a_slow_message_s_record(app, shops, double):
    # The example: two texts to one phone from one number; the first create answers
    # 500 (not created), the second's is slow; the first's retry must not take its record.
    with app.app_context():
        m1, m2 = accepted_message(shops, body=FIRST), accepted_message(shops, body=SECOND)
        double.faults = [NOT_CREATED]
        assert run(app, m1) == "retry"
        retried = []
        double.faults = [lambda record: retried.append(run(app, m1))]
        assert run(app, m2) == "sent"
        assert retried == ["sent"]  # sent again: the record it saw was the other's
        first, second = message(m1), message(m2)
        assert first.status == second.status == Status.SENT
        assert double.records[first.provider_sid].body == FIRST
        assert double.records[second.provider_sid].body == SECOND
        assert double.bodies() == sorted([FIRST, SECOND])  # each once at the carrier
        assert double.calls.count("create") == 3


def test_identical_texts_wait_then_resolve_once_the_other_claims_its_record(app, shops, double):
    with app.app_context():
        m1, m2 = accepted_message(shops, body=FIRST), accepted_message(shops, body=FIRST)
        double.faults = [NOT_CREATED]
        assert run(app, m1) == "retry"
        retried = []
        double.faults = [lambda record: retried.append(run(app, m1))]
        assert run(app, m2) == "sent"
        # While the second was in its call, the first could not tell the record apart.
        assert retried == [f"retry: {reconciliation.AMBIGUOUS}"]
        waiting = message(m1)
        assert waiting.status == Status.SENDING and waiting.provider_sid is None
        assert waiting.reconcile_wait_since is not None and waiting.reconcile_flagged_at is None
        assert f"{Step.RECONCILE_WAIT}: 1" in details(m1)
        assert outbox.live_job(m1) is not None  # examined again later
        assert double.calls.count("create") == 2
        # The second claimed its record: the first's next look finds nothing of its own.
        assert run(app, m1) == "sent"
        first, second = message(m1), message(m2)
        assert first.provider_sid != second.provider_sid
        assert first.reconcile_wait_since is None
        assert double.bodies() == [FIRST, FIRST] and double.calls.count("create") == 3


def test_a_create_that_answered_500_but_took_the_message_is_recorded_not_resent(app, shops, double):
    with app.app_context():
        mid = accepted_message(shops, body=FIRST)
        double.faults = [CREATED]
        assert run(app, mid) == "retry"
        assert run(app, mid) == "reconciled"
        m = message(mid)
        assert m.status == Status.SENT and m.provider_sid in double.records
        assert m.history[-1].source == Source.RECONCILIATION
        assert double.calls.count("create") == 1


def test_a_record_outside_the_attempt_window_is_not_taken(app, shops, double, time_machine):
    with app.app_context():
        old = double.add(to="+15145550101", from_="+14386013562", body=FIRST)
        time_machine.move_to(utcnow() + timedelta(minutes=30), tick=False)
        mid = accepted_message(shops, body=FIRST)
        double.faults = [NOT_CREATED]
        assert run(app, mid) == "retry"
        assert run(app, mid) == "sent"
        assert message(mid).provider_sid != old.sid


def test_a_claimed_sid_is_never_taken_twice(app, shops, double):
    with app.app_context():
        sent = accepted_message(shops, body=FIRST)
        assert run(app, sent) == "sent"
        mid = accepted_message(shops, body=FIRST)
        double.faults = [NOT_CREATED]
        assert run(app, mid) == "retry"
        # The only matching record is the first message's: it is sent again, not taken.
        assert run(app, mid) == "sent"
        assert message(mid).provider_sid != message(sent).provider_sid
        # Recording a claimed SID is refused, rolled back, never a crash…
        taken = double.records[message(sent).provider_sid]
        other = accepted_message(shops, body=SECOND)
        assert reconciliation.record_sent(message(other), taken, Source.RECONCILIATION) is False
        assert message(other).provider_sid is None and message(other).status == Status.QUEUED


def test_look_alikes_no_worker_holds_share_the_records_by_rank(app, shops, double):
    # Both interrupted, neither in a call: the one record at the carrier is the first's, the
    # second is sent again. Same recipient, number and text: as many leave as were asked.
    with app.app_context():
        m1, m2 = accepted_message(shops, body=FIRST), accepted_message(shops, body=FIRST)
        double.faults = [CREATED, NOT_CREATED]
        assert run(app, m1) == "retry"
        assert run(app, m2) == "retry"
        assert run(app, m2) == "sent"  # ranked second: no record left for it
        assert run(app, m1) == "reconciled"
        assert double.bodies() == [FIRST, FIRST]
        assert message(m1).provider_sid != message(m2).provider_sid


def test_more_than_one_matching_record_waits_then_is_flagged(app, shops, double, time_machine):
    with app.app_context():
        mid = accepted_message(shops, body=FIRST)
        double.faults = [CREATED]
        assert run(app, mid) == "retry"
        # A second record with the same text, sent by hand at the same moment.
        double.add(to="+15145550101", from_="+14386013562", body=FIRST)
        assert run(app, mid) == f"retry: {reconciliation.AMBIGUOUS}"
        time_machine.move_to(utcnow() + timedelta(minutes=31), tick=False)
        assert run(app, mid) == f"retry: {reconciliation.AMBIGUOUS}"
        m = message(mid)
        assert m.status == Status.SENDING and m.reconcile_flagged_at is not None
        assert str(Step.RECONCILE_FLAGGED) in details(mid)
        assert double.calls.count("create") == 1  # neither taken nor sent again


def test_a_message_left_in_sending_past_its_lease_is_swept_then_reconciled(
    app, shops, double, time_machine
):
    class Killed(BaseException):
        """The worker dies in the carrier call, after the carrier took the message."""

    with app.app_context():
        mid = accepted_message(shops, body=FIRST)

        def die(record):
            raise Killed

        double.faults = [die]
        with pytest.raises(Killed):
            run(app, mid)
        assert message(mid).status == Status.SENDING and message(mid).provider_sid is None
        outbox.forget_job(mid)  # its job died with the worker
        assert outbox.sweep() == 0  # the lease has not run out yet
        lease = app.config["SMS_SEND_LEASE_SECONDS"]
        time_machine.move_to(utcnow() + timedelta(seconds=lease + 5), tick=False)
        assert outbox.sweep() == 1
        job = outbox.live_job(mid)
        assert job is not None
        with app.app_context():
            assert job.perform() == "reconciled"
        m = message(mid)
        assert m.status == Status.SENT and m.provider_sid in double.records
        assert double.calls.count("create") == 1


def test_a_send_whose_sid_another_message_claimed_waits(app, shops, double):
    with app.app_context():
        mid = accepted_message(shops, body=FIRST)

        def claimed_meanwhile(record):
            with app.app_context():
                other = db.session.get(SmsMessage, accepted_message(shops, body=SECOND))
                other.provider_sid = record.sid
                db.session.commit()

        double.faults = [claimed_meanwhile]
        assert run(app, mid) == f"retry: {reconciliation.AMBIGUOUS}"
        assert message(mid).status == Status.SENDING and message(mid).provider_sid is None
        assert get_redis().exists(outbox.lease_key(mid)) == 0


def test_a_report_naming_a_waiting_message_settles_it(app, shops, double):
    with app.app_context():
        mid = accepted_message(shops, body=FIRST)
        double.faults = [CREATED]
        assert run(app, mid) == "retry"
        twin = double.add(to="+15145550101", from_="+14386013562", body=FIRST)
        assert run(app, mid) == f"retry: {reconciliation.AMBIGUOUS}"
        # The carrier's report on its record carries our id in its callback URL.
        ours = next(r for r in double.records.values() if r.sid != twin.sid)
        record_report(ours.sid, mid, Status.SENT, "sent")
        assert message(mid).provider_sid == ours.sid and message(mid).status == Status.SENT
        assert run(app, mid) == "nothing to do"
        assert double.calls.count("create") == 1
