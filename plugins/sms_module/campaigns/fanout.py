"""Marketing campaigns (PRODUCT.md §7, §10): one text a shop sends on the promotional queue
to every customer of its audience, through the send service like any other SMS.

A campaign is committed first, reviewed, then confirmed; its fan-out (``prepare``) runs as a
job on the promotional queue at the send time (``queueing``) and asks the send service,
customer by customer (a page at a time), to send the campaign's text in the customer's
language, with the shop's name and how to unsubscribe (``review.message_text``). The send
service checks consent, the opt-out list and the rest, keeping each refusal as a Failed
message with its reason. Every message carries the key ``campaign:<campaign>:<customer>``,
and customers the campaign already reached are passed over, so a fan-out run twice (a
retried job, two workers) sends nobody twice.

The shop may cancel or edit the campaign while the fan-out runs: before each customer the
fan-out reads the campaign's status and texts with its row locked, so a cancel or an edit
waits for that customer's message and the next one sees it. A canceled campaign stops the
fan-out, which cancels what it wrote meanwhile (``messages.cancel_waiting``).

A campaign never goes at night: a send time in the shop's quiet hours moves to the end of
them (the next morning), shop time, and a promotional message still waiting when the night
comes (a campaign larger than its numbers' rate sends in an evening) is held until the
morning by the send job.
"""

from __future__ import annotations

import logging

from rq import get_current_job
from sqlalchemy import case, func, or_, select, update

from host.api import Customer, db, get_redis, platform_now, utcnow
from plugins.sms_module.campaigns import messages, review
from plugins.sms_module.campaigns.audience import audience
from plugins.sms_module.campaigns.queueing import lease_key, replaced
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
from plugins.sms_module.models.statuses import Status, refusal_sql
from plugins.sms_module.sending import service
from plugins.sms_module.texts.templates import message_language

log = logging.getLogger(__name__)

KIND = Kind.CAMPAIGN
SOURCE = Source.CAMPAIGN
QUEUE = Queue.PROMOTIONAL.value
# Customers asked per page of the fan-out (never the whole shop at once).
PAGE = 200
# The Redis lease a fan-out holds while it runs, renewed after each page.
LEASE_SECONDS = 300
CANCELED_REASON = Withdrawal.CAMPAIGN_CANCELED  # stored as its code (issue 12 point 1)


def dedupe_key(campaign_id: int, customer_id: int) -> str:
    return f"campaign:{campaign_id}:{customer_id}"


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
    """Job: ask the send service to send the campaign to each customer of its audience;
    return what happened. Safe to run twice, and to resume after a crash; does nothing for
    a draft, a canceled campaign, or when a newer job of the campaign replaced this one."""
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
    send_at, language, user_id = due, campaign.language, campaign.created_by_id
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
        going = _send_page(company, page, send_at, campaign_id, user_id)
        renew()
        if not going or _status(campaign_id) != CampaignStatus.SENDING:
            canceled = messages.cancel_waiting(campaign_id, Source.CAMPAIGN, CANCELED_REASON)
            log.info("campaign %s canceled during its fan-out (%s more)", campaign_id, canceled)
            return "canceled"
    return _finish(campaign_id)


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


def _locked_texts(campaign_id: int):
    """Return the campaign's (body, body_fr) with its row locked until the next commit, or
    None once it is no longer Sending (canceled)."""
    row = db.session.execute(
        select(SmsCampaign.status, SmsCampaign.body, SmsCampaign.body_fr)
        .where(SmsCampaign.id == campaign_id)
        .with_for_update()
    ).one_or_none()
    if row is None or row.status != CampaignStatus.SENDING:
        return None
    return row.body, row.body_fr


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


def _send_page(company, customers, send_at, campaign_id, user_id) -> bool:
    """Ask the send service for each customer of the page the campaign has not reached;
    return False, at once, if the campaign is no longer Sending (canceled).

    A customer already asked (an earlier run) is passed over, and so is one whose phone
    already has the campaign through another customer: a shared phone gets it once."""
    ids = [c.id for c in customers]
    phones = {c.mobile_phone for c in customers}
    asked = set(
        db.session.scalars(
            select(SmsMessage.customer_id).where(
                SmsMessage.campaign_id == campaign_id,
                SmsMessage.kind == KIND,
                SmsMessage.customer_id.in_(ids),
            )
        )
    )
    reached = set(
        db.session.scalars(
            select(SmsMessage.phone).where(
                SmsMessage.campaign_id == campaign_id,
                SmsMessage.kind == KIND,
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
        texts = _locked_texts(campaign_id)  # held until the send service commits
        if texts is None:
            db.session.commit()
            return False
        customer = db.session.get(Customer, customer_id)
        body = review.message_text(company, *texts, message_language(customer, company))
        # A phone the shop never texted: the send service writes its disclaimer first (§5).
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
    db.session.commit()
    return True
