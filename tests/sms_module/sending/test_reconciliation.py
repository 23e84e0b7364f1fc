"""The carrier's answer to a send: a refusal fails the message (21610 opts the phone out),
transient errors are retried, and a timeout is settled by asking the carrier."""

import pytest

from plugins.sms_module import jobs
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models.statuses import Status
from tests.support_pipeline import accepted_message, carrier, in_process_app, message


@pytest.fixture
def app(make_app, redis_url):
    """No simulator reports here: they are posted by tests that run a web server."""
    # One message per job here; sending a backlog in one job has its own test.
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


def test_carrier_refusal_21610_fails_and_opts_the_phone_out(app, shops):
    with app.app_context():
        mid = accepted_message(shops, phone="+15145550610")
        assert jobs.send_message(mid) == "failed: 21610"
        m = message(mid)
        assert m.status == Status.FAILED and m.failure_code == "21610" and m.attempts == 1
        assert opt_out.is_opted_out("+15145550610")
        assert [e.source for e in opt_out.events("+15145550610")] == ["provider_error"]


def test_transient_errors_are_retried_then_fail_each_attempt_charged(app, shops):
    with app.app_context():
        mid = accepted_message(shops, phone="+15145550503")
        outcomes = [jobs.send_message(mid) for _ in range(app.config["SMS_MAX_ATTEMPTS"])]
        assert outcomes == ["retry"] * (app.config["SMS_MAX_ATTEMPTS"] - 1) + [
            "failed: carrier_error"
        ]
        m = message(mid)
        assert m.status == Status.FAILED and m.attempts == app.config["SMS_MAX_ATTEMPTS"]
        assert m.cost == m.price * app.config["SMS_MAX_ATTEMPTS"]
        assert carrier(app).sent_count() == 0


def test_timeout_after_the_carrier_took_it_is_not_sent_twice(app, shops):
    with app.app_context():
        mid = accepted_message(shops, phone="+15145550408")
        assert jobs.send_message(mid) == "retry"
        assert message(mid).status == Status.SENDING
        # The retry asks the carrier first and finds the message it already took.
        assert jobs.send_message(mid) == "reconciled"
        m = message(mid)
        assert m.status == Status.SENT and carrier(app).sent_count() == 1
        assert m.history[-1].source == "reconciliation"
