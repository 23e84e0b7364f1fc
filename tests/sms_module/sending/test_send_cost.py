"""What one send of a backlog costs the worker (issue 14, point 7): the SQL statements it
runs are counted (``before_cursor_execute``), so a change that adds a read or a write to the
send path fails here, and every rule is still checked at send time.

A send of the backlog reads the message (locked), option 124 with the shop's V2V number,
the opt-out list and the consent (one statement), the disclaimer and the conversation with
its number (one statement); moves the message to Sending in one compare-and-set UPDATE
(``lifecycle.claim``), adds its history line and commits; after the carrier, moves it from
Sending to Sent with its SID in one compare-and-set with its history line, with no read of
the row (``report_moves.hand_over``; a SID another message has is refused by the unique
constraint, not read beforehand): 7 statements and one commit on PostgreSQL (the receipt's
statement is its own transaction), 8 and two commits on SQLite. Before issue 14 it was 16:
the shop's row, option 124, the opt-out list, the consent and the number's row were read
apart, the message was read again after the carrier, ``lifecycle.hold`` and the ORM's
flush each updated the message, and the number's ``last_sent_at`` was written on every
send.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from host.extensions import db
from host.models import utcnow
from plugins.sms_module import jobs
from plugins.sms_module.models import SenderNumber, SmsMessage, Status
from plugins.sms_module.sending import send_job
from plugins.sms_module.sending.outcomes import Outcome
from tests.sms_module.sending.carrier_double import use_double
from tests.support_pipeline import accepted_message, message

# The statements of one backlog send by kind, commits apart, and its commits, by database.
KINDS = {
    "postgresql": ({"SELECT": 4, "UPDATE": 1, "INSERT": 1, "WITH": 1}, 1),
    "sqlite": ({"SELECT": 4, "UPDATE": 2, "INSERT": 2}, 2),
}


@pytest.fixture
def app(make_app, redis_url):
    from tests.support_pipeline import in_process_app

    return in_process_app(make_app, SMS_BATCH_SECONDS=30)


def counted_sends(monkeypatch) -> list[tuple[Outcome, Counter]]:
    """Count the statements of each backlog send (``send_leased`` called by the backlog)."""
    sends: list[tuple[Outcome, Counter]] = []
    original = send_job.send_leased

    def send_leased(message_id, config, in_backlog=False, booking=None, lease=None):
        seen: Counter = Counter()

        def statement(_conn, _cursor, sql, *_args):
            seen[sql.split(None, 1)[0].upper()] += 1

        def commit(_conn):
            seen["COMMIT"] += 1

        event.listen(db.engine, "before_cursor_execute", statement)
        event.listen(db.engine, "commit", commit)
        try:
            result = original(message_id, config, in_backlog, booking, lease)
        finally:
            event.remove(db.engine, "before_cursor_execute", statement)
            event.remove(db.engine, "commit", commit)
        if in_backlog:
            sends.append((result.outcome, seen))
        return result

    monkeypatch.setattr(send_job, "send_leased", send_leased)
    return sends


def test_a_backlog_send_runs_no_more_statements_than_its_rules_and_records_need(
    app, shops, monkeypatch
):
    use_double(monkeypatch)  # a carrier that runs no SQL of its own
    # "Last sent" is kept to the second: here no send comes a second after the previous one.
    monkeypatch.setattr(send_job, "LAST_SENT_RESOLUTION", timedelta(days=1))
    sends = counted_sends(monkeypatch)
    with app.app_context():
        ids = [accepted_message(shops, body=f"m{i}") for i in range(5)]
        assert jobs.send_message(ids[0]) == "sent"
        assert {message(i).status for i in ids} == {Status.SENT}
        kinds, commits = KINDS[db.engine.dialect.name]
    assert [outcome for outcome, _ in sends] == [Outcome.SENT] * 4
    for _outcome, seen in sends:
        committed = seen.pop("COMMIT")
        assert (dict(seen), committed) == (kinds, commits)


def test_a_numbers_last_send_is_kept_to_the_second_not_written_by_every_send(
    app, shops, monkeypatch
):
    # An hour instead of the second, so that no slowness of the machine moves the result.
    monkeypatch.setattr(send_job, "LAST_SENT_RESOLUTION", timedelta(hours=1))
    with app.app_context():
        first = accepted_message(shops, body="first")
        assert jobs.send_message(first) == "sent"
        number = db.session.scalar(
            select(SenderNumber).where(SenderNumber.number == message(first).sender_number)
        )
        assert number.last_sent_at is not None  # never sent before: written
        # A send within the resolution of the previous one leaves it as it is…
        kept = utcnow() - timedelta(minutes=1)
        number.last_sent_at = kept
        db.session.commit()
        assert jobs.send_message(accepted_message(shops, body="second")) == "sent"
        db.session.expire_all()
        assert db.session.get(SenderNumber, number.id).last_sent_at == kept
        # …one after it moves it.
        db.session.get(SenderNumber, number.id).last_sent_at = utcnow() - timedelta(hours=2)
        db.session.commit()
        third = accepted_message(shops, body="third")
        assert jobs.send_message(third) == "sent"
        db.session.expire_all()
        assert db.session.get(SenderNumber, number.id).last_sent_at > kept
        assert db.session.get(SmsMessage, third).sender_number == number.number


def test_the_twilio_client_is_kept_from_one_send_to_the_next_of_a_process(monkeypatch):
    """A new Twilio client per message opened a new HTTPS connection per message: a TLS
    handshake each (about 2.5 ms of CPU and its round trips). One is kept per process, and a
    forked work horse makes its own (a connection is never shared across a fork)."""
    config = {
        "SMS_PROVIDER": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "token",
    }
    first = send_job._carrier(config)
    assert send_job._carrier(dict(config)) is first
    assert send_job._carrier({**config, "TWILIO_AUTH_TOKEN": "another"}) is not first
    kept = send_job._carrier(config)
    monkeypatch.setattr(send_job.os, "getpid", lambda: -1)  # as in a forked work horse
    assert send_job._carrier(config) is not kept


def test_a_backlog_send_drops_its_messages_waiting_job_in_one_round_trip(app, shops, monkeypatch):
    """The backlog run takes each message it sent off its queue (no worker forks for it any
    more) with one script call, not RQ's ``Job.delete`` (seven round trips and more)."""
    import redis as redis_py

    from host.redis_connection import get_redis
    from plugins.sms_module.sending import outbox

    use_double(monkeypatch)
    dropped: list[tuple[bool, int]] = []
    original_drop = outbox.drop_waiting_job
    original_send = redis_py.connection.AbstractConnection.send_packed_command
    trips = [0]

    def send_packed_command(self, command, check_health=True):
        trips[0] += 1
        return original_send(self, command, check_health)

    def drop_waiting_job(job):
        trips[0] = 0
        monkeypatch.setattr(
            redis_py.connection.AbstractConnection, "send_packed_command", send_packed_command
        )
        try:
            done = original_drop(job)
        finally:
            monkeypatch.setattr(
                redis_py.connection.AbstractConnection, "send_packed_command", original_send
            )
        dropped.append((done, trips[0]))
        return done

    monkeypatch.setattr(outbox, "drop_waiting_job", drop_waiting_job)
    with app.app_context():
        ids = [accepted_message(shops, body=f"m{i}") for i in range(5)]
        waiting = {i: outbox.live_job(i).id for i in ids[1:]}
        assert jobs.send_message(ids[0]) == "sent"
        redis = get_redis()
        assert [redis.exists(f"rq:job:{job_id}") for job_id in waiting.values()] == [0] * 4
    assert dropped == [(True, 1)] * 4
