"""Moving a message on: a late report moves nothing, and a move adds its history line
without loading the earlier ones."""

import pytest

from host.extensions import db
from plugins.sms_module.models import SmsMessage, lifecycle
from plugins.sms_module.models.statuses import Status
from tests.support_pipeline import accepted_message, history, in_process_app, message


@pytest.fixture
def app(make_app, redis_url):
    """No simulator reports here: they are posted by tests that run a web server."""
    # One message per job here; sending a backlog in one job has its own test.
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


def test_move_refuses_a_late_report_and_keeps_no_history():
    message = SmsMessage(phone="+15145550101", body="x")
    lifecycle.start(message, Status.ACCEPTED, "module")
    for status in (Status.SCHEDULED, Status.QUEUED, Status.SENDING, Status.DELIVERED):
        assert lifecycle.move(message, status, "module")
    assert not lifecycle.move(message, Status.SENT, "provider_callback")  # arrives late
    assert not lifecycle.move(message, Status.DELIVERED, "provider_callback")  # duplicate
    assert message.status == Status.DELIVERED
    assert [h.status for h in message.history] == [
        Status.ACCEPTED,
        Status.SCHEDULED,
        Status.QUEUED,
        Status.SENDING,
        Status.DELIVERED,
    ]


def test_a_status_change_adds_its_line_without_loading_the_history(app, shops):
    from sqlalchemy import event

    from plugins.sms_module.models import lifecycle

    with app.app_context():
        mid = accepted_message(shops)
        db.session.expire_all()
        m = db.session.get(SmsMessage, mid)
        reads = []

        def count(_conn, _cursor, statement, *_args):
            if statement.lstrip().upper().startswith("SELECT") and "sms_status_change" in statement:
                reads.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert lifecycle.move(m, Status.SENDING, "module", "test")
            lifecycle.note(m, Status.SENDING, "module", "attempt 2")
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert reads == []  # two lines added, none of the earlier ones read
        assert history(message(mid)) == ["accepted", "scheduled", "queued", "sending", "sending"]
        # A loaded history gets the line in memory too.
        m = message(mid)
        assert len(m.history) == 5
        lifecycle.move(m, Status.SENT, "module", "SMx")
        assert [h.status.value for h in m.history][-1] == "sent"
        db.session.commit()
        assert history(message(mid))[-1] == "sent"
