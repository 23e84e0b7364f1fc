"""Due times judged by the platform's clock, Redis's ``TIME`` (``host.api.platform_now``):
issue 15, "A worker whose clock runs 2 minutes fast sends scheduled messages early".

The worker here is this process, whose clock ``time_machine.travel`` sets two minutes
ahead of Redis's (which it cannot move)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from host.clock import redis_time
from host.models import Company, Customer
from host.redis_connection import get_redis
from host.scheduling import release_due
from plugins.sms_module import jobs
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import outbox, service
from tests.support_pipeline import accepted_message, carrier, in_process_app, message, wait_for

FAST = timedelta(minutes=2)


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


def fast_clock():
    """This process's clock, two minutes ahead of Redis's, ticking."""
    return time_machine.travel(datetime.now(UTC) + FAST, tick=True)


def schedule(shops, seconds: float) -> int:
    """Accept a message due ``seconds`` from now by Redis's clock; return its id."""
    from host.extensions import db

    accepted_message(shops, body="ready")  # makes shop A ready to send
    company = db.session.get(Company, shops["a"]["shop"])
    customer = db.session.get(Customer, shops["a"]["customer"])
    send_at = redis_time(get_redis()) + timedelta(seconds=seconds)
    return service.request_send(company, customer=customer, body="Rappel", send_at=send_at).id


def queues(app) -> list[str]:
    return list(app.extensions["queues_declared"])


def test_a_worker_whose_clock_runs_fast_does_not_send_early(app, shops):
    with app.app_context():
        mid = schedule(shops, 2)
        send_at = message(mid).send_at
        sent_before = carrier(app).sent_count()  # the "ready" message is not sent: no job run
        with fast_clock():
            assert datetime.now(UTC) > send_at  # by this worker's clock, it is due
            assert release_due(get_redis(), queues(app)) == 0  # by Redis's, it is not
            # Its job run early anyway (by an old worker, say) puts it back to wait.
            assert jobs.send_message(mid) == "not due yet"
            assert message(mid).status == Status.SCHEDULED
            assert outbox.sweep() == 0
            assert carrier(app).sent_count() == sent_before

            # Released once Redis's clock reaches the send time (a whole second, rounded up).
            wait_for(lambda: release_due(get_redis(), queues(app)), what="the release")
            assert redis_time(get_redis()) >= send_at
            assert jobs.send_message(mid) == "sent"
            assert redis_time(get_redis()) >= send_at
        assert message(mid).status == Status.SENT
        assert carrier(app).sent_count() == sent_before + 1


def test_a_fast_clock_does_not_put_a_later_message_on_its_queue_now(app, shops):
    with app.app_context():
        mid = schedule(shops, 30)
        outbox.forget_job(mid)
        get_redis().delete(*get_redis().keys("rq:*"))  # its job is lost
        with fast_clock():
            job = outbox.enqueue(message(mid))  # the sweeper, on a fast worker
        assert job is not None and job.get_status() == "scheduled"
        assert message(mid).status == Status.SCHEDULED  # not Queued: it is not due


def test_the_platform_clock_is_redis_s(app):
    with app.app_context():
        from host.api import platform_now

        with fast_clock():
            now = platform_now()
            assert abs(now - redis_time(get_redis())) < timedelta(seconds=1)
            assert datetime.now(UTC) - now > FAST - timedelta(seconds=1)
        assert now.tzinfo is not None
