"""The outbox: a committed message gets its job at its time, and the sweeper finds what
Redis lost or a dead worker left in Sending."""

import pytest

from host.extensions import db
from host.redis_connection import get_redis
from plugins.sms_module import jobs
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import outbox
from tests.support_pipeline import accepted_message, carrier, in_process_app, message


@pytest.fixture
def app(make_app, redis_url):
    """No simulator reports here: they are posted by tests that run a web server."""
    # One message per job here; sending a backlog in one job has its own test.
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


def test_sweeper_recovers_messages_after_redis_is_emptied(app, shops):
    with app.app_context():
        app.config["SMS_SWEEP_GRACE_SECONDS"] = 0
        ids = [accepted_message(shops, body=f"m{i}") for i in range(3)]
        get_redis().flushdb()  # every job is gone
        assert all(outbox.live_job(i) is None for i in ids)
        assert outbox.sweep() == 3
        assert outbox.sweep() == 0  # nothing enqueued twice
        for i in ids:
            assert jobs.send_message(i) == "sent"
        assert carrier(app).sent_count() == 3


def test_sweeper_resumes_a_message_left_in_sending(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        m = message(mid)
        from datetime import timedelta

        from host.models import utcnow
        from plugins.sms_module.models import lifecycle

        lifecycle.move(m, Status.SENDING, "module")
        m.sender_number = "+14386013562"
        # Its worker died longer ago than a lease lasts.
        m.updated_at = utcnow() - timedelta(seconds=app.config["SMS_SEND_LEASE_SECONDS"] + 1)
        db.session.commit()
        get_redis().flushdb()
        assert outbox.sweep() == 1
        assert jobs.send_message(mid) == "sent"
        assert carrier(app).sent_count() == 1


def test_future_message_waits_for_its_time(app, shops):
    from datetime import UTC, datetime, timedelta

    from host.models import Company, Customer
    from plugins.sms_module.sending import service

    with app.app_context():
        accepted_message(shops)  # makes shop A ready
        company = db.session.get(Company, shops["a"]["shop"])
        customer = db.session.get(Customer, shops["a"]["customer"])
        later = service.request_send(
            company,
            customer=customer,
            body="Rappel",
            send_at=datetime.now(UTC) + timedelta(hours=2),
        )
        assert message(later.id).status == Status.SCHEDULED
        job = outbox.live_job(later.id)
        assert job is not None and job.get_status() == "scheduled"
        assert jobs.send_message(later.id) == "not due yet"
        assert message(later.id).status == Status.SCHEDULED
        assert outbox.sweep() == 0  # not due: the sweeper leaves it


def test_a_waiting_job_is_dropped_in_one_round_trip_and_a_taken_one_is_left(app, shops):
    """``drop_waiting_job``: a backlog run that sent a message drops its job, queued or
    scheduled, so no worker forks for it; one a worker has started is left to it."""
    from datetime import timedelta

    from rq.job import Job, JobStatus
    from rq.registry import ScheduledJobRegistry

    from host.models import utcnow
    from host.redis_connection import get_queue

    with app.app_context():
        queued = outbox.live_job(accepted_message(shops, body="queued"))
        later = message(accepted_message(shops, body="later"))
        scheduled = outbox.enqueue(later, at=utcnow() + timedelta(hours=1), force=True)
        started = outbox.live_job(accepted_message(shops, body="started"))
        started.set_status(JobStatus.STARTED)
        queue = get_queue("transactional")
        assert outbox.live_job(later.id).id == scheduled.id  # fetched in one round trip too
        assert outbox.drop_waiting_job(queued)
        assert outbox.drop_waiting_job(Job.fetch(scheduled.id, connection=get_redis()))
        assert not outbox.drop_waiting_job(started)
        assert queued.id not in queue.job_ids
        assert not get_redis().exists(queued.key)
        assert scheduled.id not in ScheduledJobRegistry(queue=queue).get_job_ids()
        assert not get_redis().exists(scheduled.key)
        assert get_redis().exists(started.key)  # its worker's, as it was


def test_the_sweeper_reads_its_candidates_jobs_in_one_round_trip(app, shops, monkeypatch):
    """A backlog of Queued messages past the grace are all the sweeper's candidates, each
    second: their jobs are read in one call, those with a live job are left as they are, and
    a message whose started job nobody holds (its worker died) gets a new job."""
    from datetime import timedelta

    import redis as redis_py
    from rq.job import JobStatus
    from sqlalchemy import update

    from host.models import utcnow
    from plugins.sms_module.models import SmsMessage

    with app.app_context():
        ids = [accepted_message(shops, body=f"m{i}") for i in range(6)]
        lost = outbox.live_job(ids[-1])
        lost.set_status(JobStatus.STARTED)  # its worker died: no lease is held
        past_grace = utcnow() - timedelta(seconds=app.config["SMS_SWEEP_GRACE_SECONDS"] + 1)
        db.session.execute(
            update(SmsMessage).where(SmsMessage.id.in_(ids)).values(updated_at=past_grace)
        )
        db.session.commit()
        before = {i: outbox.live_job(i).id for i in ids[:-1]}
        outbox.with_live_job(ids[:1])  # the script loaded into Redis's cache beforehand
        calls: list[bytes] = []
        original = redis_py.connection.AbstractConnection.send_packed_command

        def send_packed_command(self, command, check_health=True):
            calls.append(b"".join(command)[:40] if isinstance(command, list) else command[:40])
            return original(self, command, check_health)

        monkeypatch.setattr(
            redis_py.connection.AbstractConnection, "send_packed_command", send_packed_command
        )
        assert outbox.with_live_job(ids) == set(ids[:-1])
        assert len(calls) == 1  # one script call for the six
        monkeypatch.setattr(redis_py.connection.AbstractConnection, "send_packed_command", original)
        assert outbox.sweep() == 1
        assert {i: outbox.live_job(i).id for i in ids[:-1]} == before
        assert outbox.live_job(ids[-1]).id != lost.id
