"""The RQ entry points keep working for jobs already in Redis: each dotted path the module
ever enqueued (``jobs.py`` and the aliases of the earlier layout) is enqueued on the real
Redis and run the way a worker runs it, by path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rq.job import Job
from rq.utils import import_attribute
from sqlalchemy import select

from host.extensions import db
from host.models import Invoice
from host.redis_connection import get_queue, get_redis
from plugins.sms_module import jobs
from plugins.sms_module.campaigns import PREPARE_FUNCTION
from plugins.sms_module.carriers import simulator
from plugins.sms_module.conversations.forwarding import FORWARD_FUNCTION
from plugins.sms_module.conversations.limits import DIGEST_FUNCTION
from plugins.sms_module.models import Direction, Kind, SmsCampaign, SmsMessage, Status
from plugins.sms_module.sending.outbox import SEND_FUNCTION
from tests.support_pipeline import accepted_message, in_process_app, message
from tests.support_sms import ready_to_send


@pytest.fixture
def app(make_app):
    return in_process_app(make_app)


def run_by_path(path: str, *args):
    """Enqueue ``path`` on the transactional queue and run it as a worker would: by the
    dotted path stored in Redis, loaded back from Redis."""
    queued = get_queue("transactional").enqueue(path, *args)
    job = Job.fetch(queued.id, connection=get_redis())
    assert job.func_name == path
    return job.perform()


def test_every_path_enqueued_today_is_an_entry_point_of_jobs():
    enqueued = {SEND_FUNCTION, PREPARE_FUNCTION, FORWARD_FUNCTION, simulator.REPORT_FUNCTION}
    enqueued.add(DIGEST_FUNCTION)
    enqueued |= jobs.EVENT_JOB_PATHS
    assert all(path.startswith("plugins.sms_module.jobs.") for path in enqueued)
    for path in enqueued:  # resolved the way a worker resolves it
        entry = import_attribute(path)
        assert callable(entry) and entry.__module__ == jobs.__name__, path


def test_a_send_job_by_its_path_sends_the_message(app, shops):
    # The send job never moved: jobs.send_message is the path of every send job in Redis.
    with app.app_context():
        mid = accepted_message(shops)
        assert run_by_path("plugins.sms_module.jobs.send_message", mid) == "sent"
        assert message(mid).status == Status.SENT


@pytest.mark.parametrize(
    "path",
    ["plugins.sms_module.event_jobs.invoice_printed", "plugins.sms_module.jobs.invoice_printed"],
)
def test_an_event_job_by_its_old_or_new_path_sends_the_event_text(app, shops, path):
    with app.app_context():
        ready_to_send(shops)
        invoice_id = shops["a"]["invoice"]
        assert run_by_path(path, invoice_id) == "done"
        sent = db.session.scalars(select_kind(Kind.INVOICE_PRINTED)).all()
        assert [m.customer_id for m in sent] == [db.session.get(Invoice, invoice_id).customer_id]


@pytest.mark.parametrize("prefix", ["plugins.sms_module.event_jobs", "plugins.sms_module.jobs"])
def test_the_other_event_jobs_run_by_either_path(app, shops, prefix):
    with app.app_context():
        ready_to_send(shops)
        appointment, customer = shops["a"]["appointment"], shops["a"]["customer"]
        assert run_by_path(f"{prefix}.appointment_changed", appointment, ["starts_at"], True) == (
            "done"
        )
        assert db.session.scalars(select_kind(Kind.APPOINTMENT_BOOKED)).all()
        saved_at = datetime.now(UTC).isoformat()
        assert run_by_path(f"{prefix}.customer_saved", customer, [], False, saved_at) == "done"
        assert run_by_path(f"{prefix}.customer_saved", 424242, [], False, saved_at) == (
            "customer gone"
        )


@pytest.mark.parametrize(
    "path", ["plugins.sms_module.inbound.forward", "plugins.sms_module.jobs.forward_reply"]
)
def test_a_reply_forward_by_its_old_or_new_path_runs(app, shops, path):
    with app.app_context():
        reply = SmsMessage(
            company_id=shops["a"]["shop"],
            direction=Direction.INBOUND,
            kind=Kind.INBOUND,
            phone="+15145550101",
            body="On my way",
            status=Status.RECEIVED,
        )
        db.session.add(reply)
        db.session.commit()
        assert run_by_path(path, reply.id) == "kept on the reply page"
        assert message(reply.id).forwarded_at is not None


@pytest.mark.parametrize(
    "path", ["plugins.sms_module.campaigns.prepare", "plugins.sms_module.jobs.prepare_campaign"]
)
def test_a_campaign_fan_out_by_its_old_or_new_path_runs(app, shops, path):
    with app.app_context():
        ready_to_send(shops)
        campaign = SmsCampaign(
            company_id=shops["a"]["shop"],
            name="Spring",
            body="Tune-up: 15% off",
            send_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC),  # 10:00 in Montreal
        )
        db.session.add(campaign)
        db.session.commit()
        assert run_by_path(path, campaign.id) == "prepared: 1 recipient(s), 0 refused"
        assert db.session.get(SmsCampaign, campaign.id).prepared_at is not None


@pytest.mark.parametrize(
    "path", ["plugins.sms_module.simulator.report", "plugins.sms_module.jobs.simulator_report"]
)
def test_a_simulator_report_by_its_old_or_new_path_delivers(app, shops, serve, path):
    app.config["SMS_PUBLIC_BASE_URL"] = serve(app)  # the report posts to the live webhook
    with app.app_context():
        mid = accepted_message(shops)
        assert jobs.send_message(mid) == "sent"
        assert run_by_path(path, message(mid).provider_sid) == "delivered"
        assert message(mid).status == Status.DELIVERED


def select_kind(kind: str):
    return select(SmsMessage).where(SmsMessage.kind == kind)
