"""Delivery reports (PRODUCT.md §6): a report that cannot move its message writes nothing,
not even a failure code, and Twilio's 21610 opts a phone out only with the move it makes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from host.extensions import db
from plugins.sms_module import jobs
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import OptOutEvent, Status
from tests.support_pipeline import accepted_message, in_process_app, message, post_report


@pytest.fixture
def app(make_app):
    return in_process_app(make_app)


def sent(shops) -> tuple[int, str]:
    mid = accepted_message(shops)
    assert jobs.send_message(mid) == "sent"
    return mid, message(mid).provider_sid


def test_a_late_failure_report_on_a_delivered_message_leaves_no_failure(client, app, shops):
    with app.app_context():
        mid, sid = sent(shops)
    assert post_report(client, app, mid, sid, "delivered").status_code == 200
    late = post_report(client, app, mid, sid, "failed", ErrorCode="30008", ErrorMessage="x")
    assert late.status_code == 200
    with app.app_context():
        found = message(mid)
        assert (found.status, found.failure_code, found.failure_reason) == (
            Status.DELIVERED,
            None,
            None,
        )


def test_a_failure_report_writes_code_and_reason_with_the_move(client, app, shops):
    with app.app_context():
        mid, sid = sent(shops)
    post_report(client, app, mid, sid, "undelivered", ErrorCode="30003", ErrorMessage="Gone")
    with app.app_context():
        found = message(mid)
        # The carrier's code, never its English words (issue 12, point 1).
        assert (found.status, found.failure_code, found.failure_reason) == (
            Status.UNDELIVERED,
            "30003",
            "30003",
        )
        assert found.history[-1].detail == "carrier_status: undelivered"


@pytest.mark.parametrize(
    ("extra", "code", "reason"),
    [
        ({}, "carrier_error", "carrier_error: failed"),
        ({"ErrorCode": "30007"}, "30007", "30007"),
    ],
)
def test_a_failure_report_without_reason_is_explained(client, app, shops, extra, code, reason):
    with app.app_context():
        mid, sid = sent(shops)
    post_report(client, app, mid, sid, "failed", **extra)
    with app.app_context():
        found = message(mid)
        assert (found.status, found.failure_code, found.failure_reason) == (
            Status.FAILED,
            code,
            reason,
        )


def test_a_replayed_21610_does_not_opt_out_a_phone_that_texted_start(client, app, shops):
    with app.app_context():
        mid, sid = sent(shops)
        phone = message(mid).phone
    post_report(client, app, mid, sid, "failed", ErrorCode="21610")
    with app.app_context():
        assert opt_out.is_opted_out(phone)
        opt_out.opt_in(phone, "sms_keyword", None, "START")
        db.session.commit()
    post_report(client, app, mid, sid, "failed", ErrorCode="21610")  # the carrier retries it
    with app.app_context():
        assert not opt_out.is_opted_out(phone)
        actions = [e.action for e in db.session.query(OptOutEvent).order_by(OptOutEvent.id)]
        assert actions == ["opt_out", "opt_in"]


def test_a_late_21610_does_not_opt_out_a_phone_that_texted_start_since(
    client, app, shops, time_machine
):
    time_machine.move_to(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), tick=False)
    with app.app_context():
        mid, sid = sent(shops)  # handed to the carrier at 10:00
        phone = message(mid).phone
        time_machine.move_to(datetime(2026, 12, 1, 10, 5, tzinfo=UTC), tick=False)
        opt_out.opt_out(phone, "sms_keyword", None, "STOP")
        db.session.commit()
        time_machine.move_to(datetime(2026, 12, 1, 10, 6, tzinfo=UTC), tick=False)
        opt_out.opt_in(phone, "sms_keyword", None, "START")
        db.session.commit()
    time_machine.move_to(datetime(2026, 12, 1, 10, 9, tzinfo=UTC), tick=False)
    # The report of the 10:00 message comes after the START: it fails the message only.
    assert post_report(client, app, mid, sid, "undelivered", ErrorCode="21610").status_code == 200
    with app.app_context():
        found = message(mid)
        assert (found.status, found.failure_code) == (Status.UNDELIVERED, "21610")
        assert not opt_out.is_opted_out(phone)
        actions = [e.action for e in db.session.query(OptOutEvent).order_by(OptOutEvent.id)]
        assert actions == ["opt_out", "opt_in"]


def test_a_21610_on_a_message_sent_after_the_start_still_opts_out(client, app, shops, time_machine):
    time_machine.move_to(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), tick=False)
    with app.app_context():
        mid = accepted_message(shops)
        phone = message(mid).phone
        opt_out.opt_in(phone, "sms_keyword", None, "START")
        db.session.commit()
        time_machine.move_to(datetime(2026, 12, 1, 11, 0, tzinfo=UTC), tick=False)
        assert jobs.send_message(mid) == "sent"
        sid = message(mid).provider_sid
    post_report(client, app, mid, sid, "failed", ErrorCode="21610")
    with app.app_context():
        assert opt_out.is_opted_out(phone)


def test_a_report_without_sid_does_not_give_the_message_an_empty_one(client, app, shops):
    with app.app_context():
        mid = accepted_message(shops)
    assert post_report(client, app, mid, "", "failed", ErrorCode="30003").status_code == 200
    with app.app_context():
        found = message(mid)
        assert found.provider_sid is None and found.failure_code is None
