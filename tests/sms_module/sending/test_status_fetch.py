"""Delivery reports fetched when they do not come (issue 15, point 3): a Sent message with
no final status 12 hours after the carrier took it is asked of the carrier by its SID, in
batches within the API rate, and the answer moves it on as a report would, never back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from host.extensions import db
from plugins.sms_module import plugin
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.models.statuses import Status, lacks_report
from plugins.sms_module.sending import status_fetch
from plugins.sms_module.sending.delivery_reports import record_report
from tests.sms_module.sending.carrier_double import CarrierDouble, use_double
from tests.sms_module.sending.support import add
from tests.support_pipeline import accepted_message, history, in_process_app, message

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app)


@pytest.fixture
def double(monkeypatch) -> CarrierDouble:
    return use_double(monkeypatch)


class FakeClock:
    """A monotonic clock that moves only when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def sent_message(shops, time_machine) -> SmsMessage:
    """A message the carrier took at T0, with no report since."""
    from plugins.sms_module import jobs

    time_machine.move_to(T0, tick=False)
    mid = accepted_message(shops)
    assert jobs.send_message(mid) == "sent"
    return message(mid)


def fetch(app, carrier: CarrierDouble) -> int:
    """Run one status fetch, paced on a clock of its own (no real wait)."""
    fake = FakeClock()
    paced = status_fetch.Pacer(app.config["SMS_CARRIER_API_PER_SECOND"], fake.clock, fake.sleep)
    return status_fetch.fetch_due(carrier, app.config, paced)


@pytest.fixture
def carrier(double: CarrierDouble) -> CarrierDouble:
    return double


def test_a_sent_message_is_asked_after_12_hours_not_before(app, shops, carrier, time_machine):
    with app.app_context():
        m = sent_message(shops, time_machine)
        carrier.set_status(m.provider_sid, "delivered")
        time_machine.move_to(T0 + timedelta(hours=11), tick=False)
        assert fetch(app, carrier) == 0
        assert message(m.id).status == Status.SENT and carrier.calls.count("fetch") == 0
        time_machine.move_to(T0 + timedelta(hours=13), tick=False)
        assert fetch(app, carrier) == 1
        fetched = message(m.id)
        assert fetched.status == Status.DELIVERED
        assert fetched.status_checked_at == T0 + timedelta(hours=13)
        assert fetched.history[-1].detail == "carrier_status: delivered"
        assert fetch(app, carrier) == 0  # final now: never asked again


def test_a_message_still_sent_is_asked_again_every_6_hours_until_72(
    app, shops, carrier, time_machine
):
    with app.app_context():
        m = sent_message(shops, time_machine)
        moments = {13: 1, 15: 0, 19.5: 1, 26: 1, 77: 1, 79.5: 0}
        for hours, asked in moments.items():
            time_machine.move_to(T0 + timedelta(hours=hours), tick=False)
            assert fetch(app, carrier) == asked, hours
        still = message(m.id)
        # The checks leave the acceptance as it was: past 72 hours it reads "no delivery
        # report", the label for what the carrier itself never reports.
        assert still.status == Status.SENT and still.updated_at == T0
        assert lacks_report(still.status, still.updated_at, T0 + timedelta(hours=79.5))
        assert history(still).count("sent") == 1  # the carrier's "queued" stored nothing


def test_a_report_that_came_meanwhile_is_never_moved_backwards(app, shops, carrier, time_machine):
    with app.app_context():
        m = sent_message(shops, time_machine)
        fetch_of = carrier.fetch

        def report_overtakes(sid):
            # The delivery report arrives while the carrier is asked; the carrier still
            # answers "sent" (its own lag).
            with app.app_context():
                record_report(sid, None, Status.DELIVERED, "delivered")
            carrier.set_status(sid, "sent")
            return fetch_of(sid)

        carrier.fetch = report_overtakes
        time_machine.move_to(T0 + timedelta(hours=13), tick=False)
        assert fetch(app, carrier) == 1
        after = message(m.id)
        assert after.status == Status.DELIVERED
        assert history(after).count("delivered") == 1


def test_a_report_already_stored_is_not_stored_twice(app, shops, carrier, time_machine):
    with app.app_context():
        m = sent_message(shops, time_machine)
        record_report(m.provider_sid, None, Status.SENT, "sent")  # a repeated "sent"
        carrier.set_status(m.provider_sid, "sent")
        time_machine.move_to(T0 + timedelta(hours=13), tick=False)
        assert fetch(app, carrier) == 1
        assert history(message(m.id)).count("sent") == 1


def test_a_batch_keeps_to_the_api_rate(app, shops, carrier, time_machine):
    app.config["SMS_CARRIER_API_PER_SECOND"] = 4
    time_machine.move_to(T0, tick=False)
    with app.app_context():
        ids = [add(shops, Status.SENT, provider_sid=f"SM{n:032x}") for n in range(30)]
        fake = FakeClock()
        started: list[float] = []
        carrier.fetch = lambda sid: started.append(fake.now)  # the carrier has none of them
        time_machine.move_to(T0 + timedelta(hours=13), tick=False)
        paced = status_fetch.Pacer(4, fake.clock, fake.sleep)
        asked = status_fetch.fetch_due(carrier, app.config, paced)
        # One batch: RUN_SECONDS of requests at 4 a second, never 5 within a second.
        assert asked == len(started) == 4 * status_fetch.RUN_SECONDS
        assert max(sum(1 for t in started if s <= t < s + 1) for s in started) == 4
        checked = db.session.query(SmsMessage).filter(SmsMessage.id.in_(ids))
        assert sum(1 for m in checked if m.status_checked_at is not None) == asked
        # The next run asks for the rest.
        assert status_fetch.fetch_due(carrier, app.config, paced) == 30 - asked


def test_the_pacer_waits_between_calls():
    fake = FakeClock()
    paced = status_fetch.Pacer(10, fake.clock, fake.sleep)
    for _ in range(21):
        paced.wait()
    assert fake.now == pytest.approx(2.0)


def test_the_fetch_and_the_audit_are_periodic_tasks_beside_the_sweeper():
    names = [task.name for task in plugin.register_periodic_tasks()]
    assert names[:3] == ["sms-sweeper", "sms-status-fetch", "sms-carrier-audit"]
