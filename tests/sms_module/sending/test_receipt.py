"""The send job's record of the carrier's receipt (``reconciliation.record_receipt``; issue
14, point 7): the usual receipt is one compare-and-set from Sending to Sent with its SID and
its history line, with no read of the row; whatever is not usual (a report that overtook
the job, a SID another message has, a failure in the receipt) ends as ``record_sent`` ends
it: never backwards, a SID claimed once, nothing half written."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import event, select, text

from host.extensions import db
from host.models import utcnow
from host.redis_connection import get_redis
from plugins.sms_module.carriers.base import CarrierMessage
from plugins.sms_module.models import Kind, Source, Status, lifecycle
from plugins.sms_module.models.codes import Step, coded
from plugins.sms_module.sending import outbox, reconciliation, report_moves
from plugins.sms_module.sending.delivery_reports import record_report
from tests.support_pipeline import accepted_message, history, in_process_app, message, wait_for


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app)


def sending(shops, body: str = "Votre auto est prête") -> int:
    """Accept a message and move it to Sending, as the send job does before the carrier."""
    message_id = accepted_message(shops, body=body)
    lifecycle.move(message(message_id), Status.SENDING, Source.MODULE)
    db.session.commit()
    get_redis().hset(outbox.JOBS_KEY, message_id, "its-job")
    return message_id


def receipt(sid: str, status: str = "queued", error_code: int | None = None) -> CarrierMessage:
    return CarrierMessage(
        sid=sid, status=status, to="+15145550101", from_="+14386013492", error_code=error_code
    )


def record(message_id: int, got: CarrierMessage) -> bool:
    return reconciliation.record_receipt(message_id, Kind.MANUAL, got, Source.MODULE)


def test_the_usual_receipt_moves_sending_to_sent_with_its_sid_and_one_line(app, shops):
    with app.app_context():
        mid = sending(shops)
        seen = []

        def statement(_conn, _cursor, sql, *_args):
            seen.append(sql.split(None, 1)[0].upper())

        event.listen(db.engine, "before_cursor_execute", statement)
        try:
            assert record(mid, receipt("SM" + "1" * 32)) is True
        finally:
            event.remove(db.engine, "before_cursor_execute", statement)
        # One compare-and-set with its line, no read of the row (the longer way reads it).
        assert (
            seen == {"postgresql": ["WITH"], "sqlite": ["UPDATE", "INSERT"]}[db.engine.dialect.name]
        )
        m = message(mid)
        assert (m.status, m.provider_sid) == (Status.SENT, "SM" + "1" * 32)
        assert history(m)[-2:] == ["sending", "sent"]
        assert m.history[-1].detail == coded(Step.CARRIER_ACCEPTED, "SM" + "1" * 32)
        assert m.history[-1].source == Source.MODULE
        assert get_redis().hget(outbox.JOBS_KEY, mid) is None  # its job is done with


def test_a_sid_another_message_has_is_refused_and_nothing_is_written(app, shops):
    with app.app_context():
        first, other = sending(shops, "first"), sending(shops, "second")
        assert record(first, receipt("SM" + "2" * 32)) is True
        assert record(other, receipt("SM" + "2" * 32)) is False
        m = message(other)
        assert (m.status, m.provider_sid) == (Status.SENDING, None)
        assert history(m)[-1] == "sending"
        assert message(first).provider_sid == "SM" + "2" * 32


def test_a_report_that_overtook_the_job_is_never_moved_back_to_sent(app, shops):
    with app.app_context():
        mid = sending(shops)
        sid = "SM" + "3" * 32
        assert record_report(sid, mid, Status.DELIVERED, "delivered") == mid
        assert record(mid, receipt(sid)) is True
        m = message(mid)
        assert (m.status, m.provider_sid) == (Status.DELIVERED, sid)
        assert history(m).count("sent") == 0 and history(m).count("delivered") == 1


def test_a_second_sid_for_one_message_keeps_the_first_and_says_so(app, shops, caplog):
    with app.app_context():
        mid = sending(shops)
        message(mid).provider_sid = "SM" + "4" * 32  # its first attempt's record
        db.session.commit()
        with caplog.at_level(logging.ERROR, logger=reconciliation.log.name):
            assert record(mid, receipt("SM" + "5" * 32)) is True
        assert message(mid).provider_sid == "SM" + "4" * 32
        assert message(mid).status == Status.SENT
        assert "carrier has it twice" in caplog.text


def test_a_receipt_that_says_failed_fails_the_message_with_the_carrier_s_code(app, shops):
    with app.app_context():
        mid = sending(shops)
        assert record(mid, receipt("SM" + "6" * 32, "failed", 30007)) is True
        m = message(mid)
        assert (m.status, m.failure_code) == (Status.FAILED, "30007")
        assert history(m)[-2:] == ["sent", "failed"]


def test_the_receipt_in_an_open_transaction_is_kept_with_it(app, shops):
    # The simulator's own read opens the session's transaction before the receipt.
    with app.app_context():
        mid = sending(shops)
        db.session.execute(select(1))
        assert record(mid, receipt("SM" + "8" * 32)) is True
        db.session.rollback()  # nothing left open to undo: the receipt was committed
        assert (message(mid).status, message(mid).provider_sid) == (Status.SENT, "SM" + "8" * 32)


def lock_waits() -> int:
    """The database's sessions waiting for a lock, read on a connection of their own."""
    with db.engine.connect() as connection:
        query = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return connection.execute(text(query)).scalar()


def test_a_report_racing_the_receipt_waits_for_it_and_is_kept(app, shops):
    # The report overtakes the send job's record of the SID: it looks the message up by our
    # id while the receipt is being committed, waits for the row, and moves it on.
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite takes no row lock: a report waits for the whole receipt")
        mid, sid = sending(shops), "SM" + "7" * 32
    found = {}

    def report() -> None:
        with app.app_context():
            found["id"] = record_report(sid, mid, Status.DELIVERED, "delivered")

    with app.app_context():  # the send job's transaction, not committed yet
        db.session.execute(select(1))
        assert report_moves.hand_over(mid, sid, utcnow(), Source.MODULE, None) == sid
        thread = threading.Thread(target=report)
        thread.start()
        wait_for(lambda: lock_waits() == 1, what="the report waiting for the message's row")
        db.session.commit()
    thread.join(timeout=30)
    with app.app_context():
        assert found == {"id": mid}
        m = message(mid)
        assert (m.status, m.provider_sid) == (Status.DELIVERED, sid)
        assert history(m)[-2:] == ["sent", "delivered"]
