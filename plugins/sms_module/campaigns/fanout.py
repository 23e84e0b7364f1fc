"""Marketing campaigns (PRODUCT.md §7, §10): one text a shop sends on the promotional queue
to every customer of its audience, through the send service like any other SMS.

A campaign is committed first; its fan-out (``prepare``) then runs as a job on the
promotional queue and asks the send service, customer by customer (a page at a time), to
send the campaign's text. The send service checks consent, the opt-out list and the rest,
keeping each refusal as a Failed message with its reason. Every message carries the key
``campaign:<campaign>:<customer>``, and customers the campaign already reached are passed
over, so a fan-out run twice (a retried job, two workers) sends nobody twice. The sweeper
(``sweep_unprepared``) re-enqueues a fan-out whose job Redis lost.

A campaign never goes at night: a send time in the shop's quiet hours moves to the end of
them (the next morning), shop time, and a promotional message still waiting when the night
comes (a campaign larger than its numbers' rate sends in an evening) is held until the
morning by the send job.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from rq import Retry
from rq.job import Job, JobStatus
from sqlalchemy import and_, case, func, or_, select

from host.api import Customer, db, get_queue, get_redis, utcnow
from plugins.sms_module.campaigns.audience import audience
from plugins.sms_module.compliance import quiet_hours, rules
from plugins.sms_module.models import (
    FailureCode,
    Kind,
    Queue,
    SmsCampaign,
    SmsMessage,
    Source,
    Status,
)
from plugins.sms_module.sending import outbox, service

log = logging.getLogger(__name__)

KIND = Kind.CAMPAIGN
SOURCE = Source.CAMPAIGN
QUEUE = Queue.PROMOTIONAL.value
PREPARE_FUNCTION = "plugins.sms_module.jobs.prepare_campaign"
# Customers asked per page of the fan-out (never the whole shop at once).
PAGE = 200
# How long a fan-out may run; a longer one is stopped and retried, and resumes.
JOB_TIMEOUT = 3600
RETRIES = [10, 60, 300]
# The Redis lease a fan-out holds while it runs, renewed after each page.
LEASE_SECONDS = 300
JOBS_KEY = "sms:campaign-jobs"  # campaign id → id of its fan-out job
# How many unprepared campaigns one sweep looks at.
SWEEP_LIMIT = 100


def lease_key(campaign_id: int) -> str:
    return f"sms:campaign:{campaign_id}"


def dedupe_key(campaign_id: int, customer_id: int) -> str:
    return f"campaign:{campaign_id}:{customer_id}"


def stopped_message(code: str | None) -> str | None:
    """Return, for people, why a campaign's fan-out sent nothing (``stopped_code``)."""
    if code == FailureCode.MODULE_OFF:
        return rules.module_off_message()
    if code == FailureCode.LOCATION_MISSING:
        return rules.location_message()
    return code


def enqueue(campaign_id: int) -> Job | None:
    """Put the campaign's fan-out on the promotional queue (after its commit). Redis away:
    the campaign waits in the database and the sweeper enqueues it later."""
    job_id = f"sms-campaign-{campaign_id}-{uuid.uuid4().hex[:8]}"
    try:
        redis = get_redis()
        redis.hset(JOBS_KEY, campaign_id, job_id)
        return get_queue(QUEUE).enqueue(
            PREPARE_FUNCTION,
            campaign_id,
            job_id=job_id,
            job_timeout=JOB_TIMEOUT,
            result_ttl=600,
            failure_ttl=7 * 24 * 3600,
            retry=Retry(max=len(RETRIES), interval=RETRIES),
        )
    except Exception:
        log.warning("could not enqueue the fan-out of campaign %s", campaign_id, exc_info=True)
        return None


def job_of(campaign_id: int) -> Job | None:
    """Return the campaign's fan-out job if Redis still has it and it is not lost: waiting,
    scheduled, running with its lease held, or failed (kept for the operator to see)."""
    return outbox.tracked_job(
        JOBS_KEY, campaign_id, lease_key(campaign_id), outbox.LIVE | {JobStatus.FAILED}
    )


def prepare(campaign_id: int) -> str:
    """Job: ask the send service to send the campaign to each customer of its audience;
    return what happened. Safe to run twice, and to resume after a crash."""
    redis = get_redis()
    lease = lease_key(campaign_id)
    if not redis.set(lease, 1, nx=True, ex=LEASE_SECONDS):
        return "another worker holds it"
    try:
        return _prepare(campaign_id, lambda: redis.expire(lease, LEASE_SECONDS))
    finally:
        redis.delete(lease)
        db.session.rollback()


def _prepare(campaign_id: int, renew) -> str:
    campaign = db.session.get(SmsCampaign, campaign_id)
    if campaign is None:
        return "campaign gone"
    if campaign.prepared_at is not None:
        return "nothing to do"
    company = campaign.company
    refusal = rules.shop_refusal(company)
    stopped = refusal.code if refusal is not None else None
    if stopped:
        # Nothing can go: say so once on the campaign, not once per customer.
        campaign.stopped_code = stopped
        campaign.prepared_at = utcnow()
        db.session.commit()
        return f"stopped: {stopped}"

    # Due at its time, or now if the job is late; never in the quiet hours.
    start = max(campaign.send_at, utcnow())
    due = quiet_hours.next_morning(start, company)
    if due != start:
        campaign.requested_send_at = campaign.requested_send_at or campaign.send_at
        campaign.send_at = due
    send_at = due
    body, language, user_id = campaign.body, campaign.language, campaign.created_by_id
    db.session.commit()

    last_id = 0
    while True:
        page = db.session.scalars(
            audience(company, language)
            .where(Customer.id > last_id)
            .order_by(Customer.id)
            .limit(PAGE)
        ).all()
        if not page:
            break
        last_id = page[-1].id
        _send_page(company, page, body, send_at, campaign_id, user_id)
        renew()

    campaign = db.session.get(SmsCampaign, campaign_id)
    recipients, refused = db.session.execute(
        select(
            func.count(SmsMessage.id),
            func.sum(
                case(
                    (and_(SmsMessage.status == Status.FAILED, SmsMessage.attempts == 0), 1),
                    else_=0,
                )
            ),
        ).where(SmsMessage.campaign_id == campaign_id)
    ).one()
    campaign.recipients, campaign.refused = recipients, int(refused or 0)
    campaign.prepared_at = utcnow()
    db.session.commit()
    log.info("campaign %s: %s recipient(s), %s refused", campaign_id, recipients, refused)
    return f"prepared: {recipients} recipient(s), {int(refused or 0)} refused"


def _send_page(company, customers, body, send_at, campaign_id, user_id) -> None:
    """Ask the send service for each customer of the page the campaign has not reached.

    A customer already asked (an earlier run) is passed over, and so is one whose phone
    already has the campaign through another customer: a shared phone gets it once."""
    ids = [c.id for c in customers]
    phones = {c.mobile_phone for c in customers}
    asked = set(
        db.session.scalars(
            select(SmsMessage.customer_id).where(
                SmsMessage.campaign_id == campaign_id, SmsMessage.customer_id.in_(ids)
            )
        )
    )
    reached = set(
        db.session.scalars(
            select(SmsMessage.phone).where(
                SmsMessage.campaign_id == campaign_id,
                SmsMessage.phone.in_(phones),
                or_(SmsMessage.status != Status.FAILED, SmsMessage.attempts > 0),
            )
        )
    )
    db.session.commit()
    pending = [(c.id, c.mobile_phone) for c in customers if c.id not in asked]
    for customer_id, phone in pending:
        if phone in reached:
            continue
        customer = db.session.get(Customer, customer_id)
        try:
            service.request_send(
                company,
                customer=customer,
                body=body,
                queue=QUEUE,
                send_at=send_at,
                kind=KIND,
                source=SOURCE,
                user_id=user_id,
                campaign=True,
                campaign_id=campaign_id,
                dedupe_key=dedupe_key(campaign_id, customer_id),
            )
        except service.SendRefused as refused:
            log.info("campaign %s, customer %s: %s", campaign_id, customer_id, refused.code)
            continue
        reached.add(phone)


# --- the sweeper -------------------------------------------------------------------------


def sweep_unprepared(grace_seconds: float) -> int:
    """Re-enqueue the fan-out of each campaign not prepared ``grace_seconds`` after its
    creation whose job Redis lost (emptied, a worker killed); return how many."""
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    waiting = db.session.scalars(
        select(SmsCampaign.id)
        .where(SmsCampaign.prepared_at.is_(None), SmsCampaign.created_at <= cutoff)
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
