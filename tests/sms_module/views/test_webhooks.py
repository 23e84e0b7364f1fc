"""The carrier's delivery reports through the signed status webhook: forward only, found
by the message's id, errors kept."""

import pytest

from plugins.sms_module import jobs
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models.statuses import Status
from tests.support_pipeline import accepted_message, history, in_process_app, message, post_report


@pytest.fixture
def app(make_app, redis_url):
    """No simulator reports here: they are posted by tests that run a web server."""
    # One message per job here; sending a backlog in one job has its own test.
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


def test_reports_move_forward_only_and_need_a_signature(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        jobs.send_message(mid)
        sid = message(mid).provider_sid
    client = app.test_client()
    assert post_report(client, app, mid, sid, "delivered").status_code == 200
    assert post_report(client, app, mid, sid, "sent").status_code == 200  # late: ignored
    assert post_report(client, app, mid, sid, "delivered").status_code == 200  # duplicate
    assert post_report(client, app, mid, sid, "failed", token="wrong").status_code == 403
    unsigned = client.post(
        f"/sms/twilio/status?message_id={mid}", data={"MessageSid": sid, "MessageStatus": "failed"}
    )
    assert unsigned.status_code == 403
    assert post_report(client, app, 0, "SMunknown", "delivered").status_code == 200
    with app.app_context():
        m = message(mid)
        assert m.status == Status.DELIVERED
        assert history(m)[-1] == "delivered" and history(m).count("delivered") == 1
        assert m.history[-1].source == "provider_callback"


def test_a_report_overtaking_our_sid_finds_the_message_by_id(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
    client = app.test_client()
    assert post_report(client, app, mid, "SMearly", "delivered").status_code == 200
    with app.app_context():
        m = message(mid)
        assert (m.status, m.provider_sid) == (Status.DELIVERED, "SMearly")


def test_undelivered_report_keeps_the_error_and_21610_opts_out(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        jobs.send_message(mid)
        m = message(mid)
        sid, phone = m.provider_sid, m.phone
    post_report(app.test_client(), app, mid, sid, "undelivered", ErrorCode="21610")
    with app.app_context():
        m = message(mid)
        assert (m.status, m.failure_code) == (Status.UNDELIVERED, "21610")
        assert opt_out.is_opted_out(phone)
