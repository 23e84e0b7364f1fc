"""A confirmed campaign's fan-out job, on a queue of its own (PRODUCT.md §7; issue 14
point 4): put there at the campaign's send time, tracked in Redis, and put back by the
sweeper when Redis lost it. Workers listen on it before the send queues, so a new
campaign starts preparing at once, whatever the backlog of sends. The job itself is
``fanout.prepare``.

The campaign's messages have no RQ job each: ``drain`` keeps a send job waiting on their
queue while some are due (a send job goes on with its queue's backlog: ``sending.backlog``),
and the sweeper, which gives the other messages their own job back, leaves them to it
(``sending.outbox.sweep``)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq import Retry
from rq.job import Job, JobStatus
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from host.api import db, get_queue, get_redis, platform_now, utcnow
from plugins.sms_module.compliance import disclaimer
from plugins.sms_module.models import Kind, Queue, SmsCampaign, SmsMessage, Status
from plugins.sms_module.models.campaigns import CampaignStatus
from plugins.sms_module.sending import outbox

log = logging.getLogger(__name__)

# The fan-outs' own queue (the plugin declares it first: ``plugin.register_queues``).
QUEUE = "campaigns"
PREPARE_FUNCTION = "plugins.sms_module.jobs.prepare_campaign"
# How long a fan-out may run; a longer one is stopped and retried, and resumes.
JOB_TIMEOUT = 3600
RETRIES = [10, 60, 300]
JOBS_KEY = "sms:campaign-jobs"  # campaign id → id of its fan-out job
# How many unprepared campaigns one sweep looks at.
SWEEP_LIMIT = 100
# A send time this close is now: RQ's scheduler keeps whole seconds.
SOON = timedelta(seconds=1)


def lease_key(campaign_id: int) -> str:
    """Return the Redis key a fan-out holds while it runs."""
    return f"sms:campaign:{campaign_id}"


def enqueue(campaign_id: int) -> Job | None:
    """Put the campaign's fan-out on its queue (``QUEUE``), for its send time (after the
    commit that confirmed it). Redis away: the campaign waits in the database and the
    sweeper enqueues it later. The job recorded last is the campaign's: an older one (the
    campaign was edited and confirmed again) finds itself replaced and does nothing."""
    send_at = db.session.scalar(select(SmsCampaign.send_at).where(SmsCampaign.id == campaign_id))
    job_id = f"sms-campaign-{campaign_id}-{uuid.uuid4().hex[:8]}"
    options = {
        "job_id": job_id,
        "job_timeout": JOB_TIMEOUT,
        "result_ttl": 600,
        "failure_ttl": 7 * 24 * 3600,
        "retry": Retry(max=len(RETRIES), interval=RETRIES),
    }
    try:
        redis = get_redis()
        redis.hset(JOBS_KEY, campaign_id, job_id)
        queue = get_queue(QUEUE)
        # Due or not by the platform's clock (Redis's), as the release of due jobs judges.
        if send_at is not None and send_at > platform_now() + SOON:
            return queue.enqueue_at(send_at, PREPARE_FUNCTION, campaign_id, **options)
        return queue.enqueue(PREPARE_FUNCTION, campaign_id, **options)
    except Exception:
        log.warning("could not enqueue the fan-out of campaign %s", campaign_id, exc_info=True)
        return None


def job_of(campaign_id: int) -> Job | None:
    """Return the campaign's fan-out job if Redis still has it and it is not lost: waiting,
    scheduled, running with its lease held, or failed (kept for the operator to see)."""
    return outbox.tracked_job(
        JOBS_KEY, campaign_id, lease_key(campaign_id), outbox.LIVE | {JobStatus.FAILED}
    )


def replaced(campaign_id: int, job: Job | None) -> bool:
    """Tell whether ``job`` (the running one; None outside a worker) is an older fan-out job
    of the campaign than the one recorded last."""
    if job is None:
        return False
    recorded = get_redis().hget(JOBS_KEY, campaign_id)
    return recorded is not None and recorded.decode() != job.id


def sweep_unprepared(grace_seconds: float) -> int:
    """Re-enqueue the fan-out of each confirmed or sending campaign not prepared
    ``grace_seconds`` after its confirmation whose job Redis lost (emptied, a worker
    killed); return how many. Drafts and canceled campaigns have no fan-out."""
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    waiting = db.session.scalars(
        select(SmsCampaign.id)
        .where(
            SmsCampaign.prepared_at.is_(None),
            SmsCampaign.status.in_([CampaignStatus.CONFIRMED, CampaignStatus.SENDING]),
            func.coalesce(SmsCampaign.confirmed_at, SmsCampaign.created_at) <= cutoff,
        )
        .order_by(SmsCampaign.id)
        .limit(SWEEP_LIMIT)
    ).all()
    db.session.commit()
    lost = [cid for cid in waiting if job_of(cid) is None]
    for cid in lost:
        enqueue(cid)
    if lost:
        log.info("sweeper re-enqueued the fan-out of %d campaign(s)", len(lost))
    return len(lost)


def drain(queue: Queue) -> Job | None:
    """Make sure a send job waits on ``queue`` while campaign messages there are due: they
    have no job each, and a send job sends its own message, then the queue's due backlog.
    One waiting is enough: the sweeper calls this every second, so another waits as soon
    as a worker takes it. Its own message is one that may go (a disclaimer, or a message
    whose phone had the shop's disclaimer), so it helps with the backlog; the job is not
    the message's own (``outbox.live_job``), so a backlog run sending that message leaves
    it waiting. Returns the job enqueued, if one was; Redis away: None."""
    try:
        waiting = get_queue(queue.value)
        if waiting.count:
            return None
    except RedisError:
        return None
    message_id = _ready_message(queue)
    db.session.commit()
    if message_id is None:
        return None
    config = current_app.config
    return waiting.enqueue(
        outbox.SEND_FUNCTION,
        message_id,
        job_id=f"sms-drain-{message_id}-{uuid.uuid4().hex[:8]}",
        job_timeout=config["SMS_JOB_TIMEOUT"],
        result_ttl=600,
        failure_ttl=7 * 24 * 3600,
    )


def keep_draining() -> int:
    """Periodic (the workers' sweeper): ``drain`` each queue; return how many jobs were
    enqueued."""
    return sum(drain(queue) is not None for queue in Queue)


def _ready_message(queue: Queue) -> int | None:
    """Return a due campaign message of ``queue`` waiting to go: the oldest that may go at
    once (a disclaimer, or one whose phone had the shop's disclaimer: no wait), else any;
    None when none is due (one indexed look, every second, when the queue is idle)."""
    due = (
        SmsMessage.status.in_((Status.QUEUED, Status.SCHEDULED)),
        SmsMessage.send_at <= platform_now(),
        SmsMessage.queue == queue,
        SmsMessage.campaign_id.is_not(None),
    )
    some = db.session.scalar(select(SmsMessage.id).where(*due).limit(1))
    if some is None:
        return None
    told = aliased(SmsMessage)
    goes = (SmsMessage.kind == Kind.DISCLAIMER) | exists().where(
        told.company_id == SmsMessage.company_id,
        told.phone == SmsMessage.phone,
        told.kind == Kind.DISCLAIMER,
        told.status.in_(disclaimer.REACHED_CARRIER),
    )
    for status in (Status.QUEUED, Status.SCHEDULED):  # each in its index's order
        found = db.session.scalar(
            select(SmsMessage.id)
            .where(*due[1:], SmsMessage.status == status, goes)
            .order_by(SmsMessage.send_at)
            .limit(1)
        )
        if found is not None:
            return found
    return some
