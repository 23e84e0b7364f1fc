"""Marketing campaigns (PRODUCT.md §7, §10): one text a shop sends on the promotional queue
to every customer of its audience, checked by the send service's rules.

A campaign is committed first, reviewed, then confirmed; its fan-out (``prepare``) runs as a
job on a queue of its own at the send time (``queueing``: it never waits behind the sends)
and writes the campaign's messages set-based, a chunk of a few thousand customers per
transaction (``pipeline``, ``chunks``, ``rows``; issue 14 point 4): each chunk is read in
one query with the facts the rules need (consent, the opt-out list), decided as the send
service decides, and written in a few bulk statements, each refusal kept as a Failed
message with its code, each first contact preceded by the shop's disclaimer on the
campaign's queue. The messages are committed Queued (or Scheduled for later) with no RQ job
each: a few send jobs drain them with their queue's backlog (``queueing.drain``).

Every message carries the key ``campaign:<campaign>:<customer>`` (unique), and a run reads
what earlier runs wrote before it starts, so a fan-out run twice (a retried job, a worker
killed half way and the job run again) sends nobody twice: it writes what is missing.

The shop may cancel or edit the campaign while the fan-out runs: each chunk checks the
campaign with its row locked just before it commits (``pipeline``), so a cancel or an edit
waits for that commit at most; a canceled campaign's chunk is rolled back, an edited one's
is written with the new text, and the fan-out stops at a cancel and cancels what it wrote
(``messages.cancel_waiting``). A worker asked to stop (SIGTERM) stops the fan-out after the
chunk in hand; the job is taken up again by another worker (``queueing.sweep_unprepared``)
and resumes.

A campaign never goes at night: a send time in the shop's quiet hours moves to the end of
them (the next morning), shop time, and a promotional message still waiting when the night
comes (a campaign larger than its numbers' rate sends in an evening) is held until the
morning by the send job.
"""

from __future__ import annotations

import logging

from flask import current_app
from rq import Worker, get_current_job
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from host.api import db, get_redis, platform_now, utcnow
from plugins.sms_module.campaigns import chunks, messages, pipeline
from plugins.sms_module.campaigns.queueing import drain, lease_key, replaced
from plugins.sms_module.compliance import quiet_hours, rules
from plugins.sms_module.models import (
    FailureCode,
    Kind,
    Queue,
    SmsCampaign,
    SmsMessage,
    Source,
    Withdrawal,
)
from plugins.sms_module.models.campaigns import CampaignStatus
from plugins.sms_module.models.statuses import refusal_sql
from plugins.sms_module.sending.lease import Lease

log = logging.getLogger(__name__)

KIND = Kind.CAMPAIGN
SOURCE = Source.CAMPAIGN
QUEUE = Queue.PROMOTIONAL.value
# Customers read and written per transaction of the fan-out (``chunks.SIZE``).
PAGE = chunks.SIZE
# A chunk that met another run's rows (a unique key) is read again, this many times at most.
RETRIES = 3
CANCELED_REASON = Withdrawal.CAMPAIGN_CANCELED  # stored as its code (issue 12 point 1)
dedupe_key = chunks.dedupe_key


def stopped_message(code: str | None) -> str | None:
    """Return, for people, why a campaign's fan-out sent nothing (``stopped_code``)."""
    if code == FailureCode.MODULE_OFF:
        return rules.module_off_message()
    if code == FailureCode.LOCATION_MISSING:
        return rules.location_message()
    if code == FailureCode.V2V_MISSING:
        return rules.v2v_message()
    return code


def prepare(campaign_id: int) -> str:
    """Job: write the campaign's message to each customer of its audience (or its refusal);
    return what happened. Safe to run twice, and to resume after a crash; does nothing for
    a draft, a canceled campaign, or when a newer job of the campaign replaced this one."""
    # Renewed by a thread while the fan-out lives: a killed one's lapses within
    # SMS_LEASE_TTL_SECONDS, and the sweeper gives the campaign to another worker.
    ttl = current_app.config["SMS_LEASE_TTL_SECONDS"]
    lease = Lease(get_redis(), lease_key(campaign_id), ttl)
    if not lease.acquire():
        return "another worker holds it"
    try:
        return _prepare(campaign_id)
    finally:
        lease.release()
        db.session.rollback()


def _prepare(campaign_id: int) -> str:
    campaign = db.session.get(SmsCampaign, campaign_id)
    if campaign is None:
        return "campaign gone"
    if campaign.status == CampaignStatus.CANCELED:
        return "canceled"
    if campaign.status == CampaignStatus.DRAFT:
        return "not confirmed"
    if campaign.prepared_at is not None:
        return "nothing to do"
    if replaced(campaign_id, get_current_job()):
        return "replaced by a newer job"
    if not _start(campaign_id):  # canceled or edited back to a draft a moment ago
        return "canceled" if _status(campaign_id) == CampaignStatus.CANCELED else "not confirmed"
    campaign = db.session.get(SmsCampaign, campaign_id)
    company = campaign.company
    refusal = rules.shop_refusal(company)
    if refusal is not None:
        # Nothing can go: say so once on the campaign, not once per customer.
        campaign.stopped_code = refusal.code
        campaign.prepared_at = utcnow()
        db.session.commit()
        return f"stopped: {refusal.code}"

    # Due at its time, or now if the job is late; never in the quiet hours.
    start = max(campaign.send_at, platform_now())
    due = quiet_hours.next_morning(start, company)
    if due != start:
        campaign.requested_send_at = campaign.requested_send_at or campaign.send_at
        campaign.send_at = due
    job = pipeline.Run(campaign_id, company.id, campaign.language, campaign.created_by_id, due)
    db.session.commit()
    for attempt in range(RETRIES + 1):
        try:
            outcome = pipeline.run(job, _worker_stopping, lambda: drain(chunks.QUEUE))
            break
        except (IntegrityError, OperationalError) as error:
            # Another run wrote some of the same customers meanwhile (their unique key), or
            # the database broke a deadlock: what is committed stays, the rest is read again.
            db.session.rollback()
            if attempt == RETRIES or not _retryable(error):
                raise
            log.warning("campaign %s: fan-out read again after %s", campaign_id, error.orig)
    if outcome == pipeline.INTERRUPTED:
        log.info("campaign %s: the worker is stopping; the fan-out resumes later", campaign_id)
        return "interrupted: the worker is stopping"
    if outcome == pipeline.CANCELED:
        more = messages.cancel_waiting(campaign_id, Source.CAMPAIGN, CANCELED_REASON)
        log.info(
            "campaign %s canceled during its fan-out (%s more message(s), %s disclaimer(s))",
            campaign_id,
            more.messages,
            more.disclaimers,
        )
        return "canceled"
    return _finish(campaign_id)


def _retryable(error) -> bool:
    """A unique key met, or a deadlock the database broke (its SQLSTATE)."""
    return isinstance(error, IntegrityError) or getattr(error.orig, "sqlstate", "") == "40P01"


def _worker_stopping() -> bool:
    """Tell whether the worker running this job was asked to stop (a SIGTERM: RQ's warm
    shutdown, noted in Redis): the fan-out stops after its chunk instead of holding the
    worker's stop up (issue 14 point 4)."""
    job = get_current_job()
    if job is None or not job.worker_name:
        return False
    key = f"{Worker.redis_worker_namespace_prefix}{job.worker_name}"
    return bool(get_redis().hexists(key, "shutdown_requested_date"))


def _start(campaign_id: int) -> bool:
    """Move a confirmed campaign to Sending (or find it Sending: a resumed fan-out); False
    if it is no longer confirmed (edited back to a draft, or canceled)."""
    db.session.execute(
        update(SmsCampaign)
        .where(SmsCampaign.id == campaign_id, SmsCampaign.status == CampaignStatus.CONFIRMED)
        .values(status=CampaignStatus.SENDING)
    )
    db.session.commit()
    return _status(campaign_id) == CampaignStatus.SENDING


def _status(campaign_id: int) -> str | None:
    return db.session.scalar(select(SmsCampaign.status).where(SmsCampaign.id == campaign_id))


def _finish(campaign_id: int) -> str:
    campaign = db.session.get(SmsCampaign, campaign_id)
    recipients, refused = db.session.execute(
        select(
            func.count(SmsMessage.id),
            func.sum(case((refusal_sql(SmsMessage.status, SmsMessage.failure_code), 1), else_=0)),
        ).where(SmsMessage.campaign_id == campaign_id, SmsMessage.kind == KIND)
    ).one()
    campaign.recipients, campaign.refused = recipients, int(refused or 0)
    campaign.prepared_at = utcnow()
    db.session.commit()
    log.info("campaign %s: %s recipient(s), %s refused", campaign_id, recipients, refused)
    return f"prepared: {recipients} recipient(s), {int(refused or 0)} refused"
