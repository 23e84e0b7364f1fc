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
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from rq import Retry
from rq.job import Job, JobStatus
from sqlalchemy import and_, case, func, or_, select

from host.extensions import db
from host.models import Company, Customer, utcnow
from host.redis_connection import get_queue, get_redis
from plugins.sms_module import pipeline, services
from plugins.sms_module.message_templates import LANGUAGES, message_language
from plugins.sms_module.models import (
    ConsentEvent,
    ConsentKind,
    OptOut,
    Queue,
    SmsCampaign,
    SmsMessage,
)
from plugins.sms_module.statuses import Status

log = logging.getLogger(__name__)

KIND = "campaign"
SOURCE = "campaign"
QUEUE = Queue.PROMOTIONAL.value
PREPARE_FUNCTION = f"{__name__}.prepare"
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


# --- quiet hours -------------------------------------------------------------------------


def quiet_hours() -> tuple[time, time]:
    """Return the shop-time night no promotional SMS goes in: (start, end)."""
    config = current_app.config
    return time(config["SMS_QUIET_START_HOUR"]), time(config["SMS_QUIET_END_HOUR"])


def out_of_quiet_hours(at: datetime, company: Company) -> datetime:
    """Return ``at`` (UTC), or the next end of the quiet hours if it falls in them, shop
    time: 22:30 moves to 8:00 the next morning, 6:00 to 8:00 the same morning."""
    start, end = quiet_hours()
    zone = ZoneInfo(company.time_zone or "UTC")
    local = at.astimezone(zone)
    moment = local.time()
    # The night spans midnight (21:00 to 8:00) unless the hours say otherwise.
    quiet = (moment >= start or moment < end) if start > end else start <= moment < end
    if not quiet:
        return at
    day = local.date() if moment < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, zone).astimezone(UTC)


# --- the audience ------------------------------------------------------------------------


def _with_phone(query, company: Company):
    return query.where(
        Customer.company_id == company.id,
        Customer.mobile_phone.is_not(None),
        Customer.mobile_phone != "",
    )


def _language_filter(query, company: Company, language: str | None):
    """Keep the customers who read ``language``: their own, else the shop's (as the
    messages' language is chosen, ``message_language``)."""
    if not language:
        return query
    spoken = func.lower(Customer.language)
    if message_language(None, company) == language:
        unknown = or_(Customer.language.is_(None), spoken.not_in(LANGUAGES))
        return query.where(or_(spoken == language, unknown))
    return query.where(spoken == language)


def audience(company: Company, language: str | None):
    """Return the query of the campaign's customers: the shop's, with a mobile phone, in
    ``language`` if given."""
    return _language_filter(_with_phone(select(Customer), company), company, language)


def _consenting(company: Company):
    """Return a subquery of the shop's customers whose last consent event gives consent."""
    last = (
        select(func.max(ConsentEvent.id).label("id"))
        .where(
            ConsentEvent.company_id == company.id,
            ConsentEvent.kind.in_([ConsentKind.GIVEN, ConsentKind.WITHDRAWN]),
        )
        .group_by(ConsentEvent.customer_id)
        .subquery()
    )
    return (
        select(ConsentEvent.customer_id)
        .join(last, last.c.id == ConsentEvent.id)
        .where(ConsentEvent.kind == ConsentKind.GIVEN)
        .subquery()
    )


@dataclass
class Audience:
    """How many customers a language choice reaches, and how many of them may receive it
    (consent on record, not opted out)."""

    customers: int = 0
    reachable: int = 0


@dataclass
class AudienceCounts:
    """The audience of each language choice: "" (everybody), "en", "fr"."""

    by_language: dict[str, Audience] = field(default_factory=dict)

    def __getitem__(self, language: str | None) -> Audience:
        return self.by_language.get(language or "", Audience())


def audience_counts(company: Company) -> AudienceCounts:
    """Count the shop's audience for each language choice, in one GROUP BY."""
    consenting = _consenting(company)
    reachable = case((and_(consenting.c.customer_id.is_not(None), OptOut.id.is_(None)), 1), else_=0)
    spoken = func.lower(Customer.language)
    query = (
        _with_phone(select(spoken, func.count(Customer.id), func.sum(reachable)), company)
        .outerjoin(consenting, consenting.c.customer_id == Customer.id)
        .outerjoin(OptOut, and_(OptOut.phone == Customer.mobile_phone, OptOut.active))
        .group_by(spoken)
    )
    default = message_language(None, company)
    counts = {code: Audience() for code in ("", *LANGUAGES)}
    for code, customers, able in db.session.execute(query):
        language = code if code in LANGUAGES else default
        for key in ("", language):
            counts[key].customers += customers
            counts[key].reachable += int(able or 0)
    return AudienceCounts(counts)


def estimate(segments: int, reachable: int) -> tuple[Decimal, str]:
    """Return what ``reachable`` messages of ``segments`` segments cost, and the currency."""
    prices = services.pricing()
    return prices.price_per_segment * segments * reachable, prices.currency


# --- counts by status --------------------------------------------------------------------

BUCKETS = ("waiting", "sent", "delivered", "failed", "refused", "canceled")
_BUCKET_OF = {
    Status.ACCEPTED: "waiting",
    Status.SCHEDULED: "waiting",
    Status.QUEUED: "waiting",
    Status.SENDING: "waiting",
    Status.SENT: "sent",
    Status.DELIVERED: "delivered",
    Status.UNDELIVERED: "failed",
    Status.FAILED: "failed",
    Status.CANCELED: "canceled",
}


def _never_tried():
    """1 for a message that never reached the carrier (a refusal when it failed)."""
    return func.sum(case((SmsMessage.attempts == 0, 1), else_=0))


def status_counts(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Count each campaign's messages by bucket (one GROUP BY for every campaign given).

    A Failed message that never reached the carrier was refused (no consent, opted out…);
    one that did failed there."""
    counts = {cid: dict.fromkeys(BUCKETS, 0) for cid in campaign_ids}
    if not campaign_ids:
        return counts
    query = (
        select(SmsMessage.campaign_id, SmsMessage.status, func.count(), _never_tried())
        .where(SmsMessage.campaign_id.in_(campaign_ids))
        .group_by(SmsMessage.campaign_id, SmsMessage.status)
    )
    for cid, status, total, never_tried in db.session.execute(query):
        bucket = _BUCKET_OF.get(status)
        if bucket is None:
            continue
        if status == Status.FAILED:
            counts[cid]["refused"] += int(never_tried or 0)
            counts[cid]["failed"] += total - int(never_tried or 0)
        else:
            counts[cid][bucket] += total
    return counts


# --- the fan-out job ---------------------------------------------------------------------


def stopped_message(code: str | None) -> str | None:
    """Return, for people, why a campaign's fan-out sent nothing (``stopped_code``)."""
    if code == "module_off":
        return services.module_off_message()
    if code == "location_missing":
        return services.location_message()
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
    return pipeline.tracked_job(
        JOBS_KEY, campaign_id, lease_key(campaign_id), pipeline.LIVE | {JobStatus.FAILED}
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
    stopped = None
    if not services.module_enabled(company):
        stopped = "module_off"
    elif not company.country or not company.province:
        stopped = "location_missing"
    if stopped:
        # Nothing can go: say so once on the campaign, not once per customer.
        campaign.stopped_code = stopped
        campaign.prepared_at = utcnow()
        db.session.commit()
        return f"stopped: {stopped}"

    # Due at its time, or now if the job is late; never in the quiet hours.
    start = max(campaign.send_at, utcnow())
    due = out_of_quiet_hours(start, company)
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
            services.request_send(
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
        except services.SendRefused as refused:
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
