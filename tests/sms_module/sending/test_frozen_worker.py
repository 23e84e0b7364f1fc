"""A worker frozen (SIGSTOP, swap) in its carrier call past its 3-second lease: another
worker takes the message up, finds nothing at the carrier yet, and must not send it again
while the frozen worker's request may still arrive (issue 15, point 2; found by a review:
two records at the carrier for one message)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq.job import Job, JobStatus
from sqlalchemy import update

from host.extensions import db
from host.models import utcnow
from host.redis_connection import get_redis
from plugins.sms_module import jobs
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import outbox
from tests.sms_module.sending.carrier_double import CarrierDouble, use_double
from tests.support_pipeline import accepted_message, in_process_app, message


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


@pytest.fixture
def double(monkeypatch) -> CarrierDouble:
    return use_double(monkeypatch)


def run(app, message_id: int) -> str:
    with app.app_context():
        return jobs.send_message(message_id)


def freeze_past_the_lease(app, message_id: int) -> None:
    """What 10 s of SIGSTOP does to a worker in the carrier call: its lease lapses, its
    message looks abandoned, and the sweeper gives the message a new job."""
    with app.app_context():
        get_redis().delete(outbox.lease_key(message_id))
        db.session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == message_id)
            .values(updated_at=utcnow() - timedelta(seconds=10))
        )
        db.session.commit()
        job_id = get_redis().hget(outbox.JOBS_KEY, message_id).decode()
        Job.fetch(job_id, connection=get_redis()).set_status(JobStatus.STARTED)
        assert outbox.live_job(message_id) is None  # taken for a dead worker's
        assert outbox.sweep() == 1


def test_a_frozen_workers_message_is_not_sent_again_while_its_call_may_arrive(app, shops, double):
    with app.app_context():
        frozen = accepted_message(shops, body="Votre auto est prête")
    real_send = double.send
    second_worker: list[str] = []

    def frozen_in_the_call(**fields):
        if not second_worker:
            freeze_past_the_lease(app, frozen)
            second_worker.append(run(app, frozen))  # worker B takes the swept job
        return real_send(**fields)  # A wakes up: its request reaches the carrier

    double.send = frozen_in_the_call
    first_worker = run(app, frozen)
    assert second_worker == ["retry: attempt_in_flight"]  # B neither sent nor took
    assert first_worker == "sent"
    assert len(double.records) == 1  # the carrier got it once
    with app.app_context():
        sent = message(frozen)
        assert sent.status == Status.SENT
        assert sent.provider_sid == next(iter(double.records))
