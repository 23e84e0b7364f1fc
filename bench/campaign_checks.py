"""What the campaign benchmark reads back: from the database and Redis, never from what
the product says of itself."""

from __future__ import annotations

import time

from rq.job import Job
from sqlalchemy import func, select

from host.extensions import db
from host.models import utcnow
from host.redis_connection import get_redis
from plugins.sms_module import campaigns
from plugins.sms_module.models import Queue, SmsCampaign, SmsMessage, Status
from plugins.sms_module.models.campaigns import CampaignStatus

BODY = "Pneus d'hiver : 10 % de rabais cette semaine, pose comprise."
PENDING = (Status.ACCEPTED, Status.SCHEDULED, Status.QUEUED, Status.SENDING)


def new_campaign(shop_id: int, name: str, draft: bool = False) -> int:
    """Add a campaign due now: a draft to review, or confirmed as code makes it."""
    now = utcnow()
    campaign = SmsCampaign(
        company_id=shop_id,
        name=name,
        body=BODY,
        send_at=now,
        status=CampaignStatus.DRAFT if draft else CampaignStatus.CONFIRMED,
        confirmed_at=None if draft else now,
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign.id


def _scalar(query):
    value = db.session.scalar(query)
    db.session.commit()  # a fresh snapshot next time
    return value


def prepared(cid: int) -> bool:
    return _scalar(select(SmsCampaign.prepared_at).where(SmsCampaign.id == cid)) is not None


def written(cid: int) -> int:
    return _scalar(
        select(func.count())
        .select_from(SmsMessage)
        .where(SmsMessage.campaign_id == cid, SmsMessage.kind == "campaign")
    )


def timing(cid: int) -> dict:
    campaign = db.session.get(SmsCampaign, cid)
    seconds = (campaign.prepared_at - campaign.confirmed_at).total_seconds()
    figures = {"confirmed → every message written and queued (s)": round(seconds, 1)}
    job_id = get_redis().hget(campaigns.JOBS_KEY, cid)
    if job_id:
        job = Job.fetch(job_id.decode(), connection=get_redis())
        if job.started_at and job.enqueued_at:
            waited = (job.started_at - job.enqueued_at).total_seconds()
            figures["fan-out job waited on its queue (s)"] = round(waited, 2)
    return figures


def rows(world, cid: int, label: str, disclaimers: bool = True) -> dict:
    """Count the campaign's rows by outcome against what the world says they must be."""
    found = db.session.execute(
        select(SmsMessage.kind, SmsMessage.status, SmsMessage.failure_code, func.count())
        .where(SmsMessage.campaign_id == cid)
        .group_by(SmsMessage.kind, SmsMessage.status, SmsMessage.failure_code)
    ).all()
    db.session.commit()
    counts = {(kind, str(status), code): total for kind, status, code, total in found}
    queued = counts.get(("campaign", "queued", None), 0)
    notes = sum(total for (kind, _, _), total in counts.items() if kind == "disclaimer")
    refused = {
        code: counts.get(("campaign", "failed", code), 0) for code in ("no_consent", "opted_out")
    }
    other_queue = _scalar(
        select(func.count())
        .select_from(SmsMessage)
        .where(SmsMessage.campaign_id == cid, SmsMessage.queue != Queue.PROMOTIONAL)
    )
    accepted = sum(
        total
        for (kind, status, _), total in counts.items()
        if kind == "campaign" and status != "failed"
    )
    expected_notes = world.first_contacts if disclaimers else 0
    ok = (
        refused == world.refused
        and accepted == world.phones_reached
        and notes == expected_notes
        and other_queue == 0
    )
    return {
        f"{label}: messages written (accepted)": accepted,
        f"{label}: of which Queued at the end": queued,
        f"{label}: refused (no consent, opted out)": f"{refused['no_consent']}, "
        f"{refused['opted_out']}",
        f"{label}: first-contact disclaimers (all promotional)": notes,
        f"{label}: rows as expected": "yes" if ok else "NO",
    }


def ran_before(backlog: list[Job], cid: int) -> int:
    """How many of the earlier promotional jobs started between the fan-out's enqueue and
    its start: the jobs it waited behind."""
    job_id = get_redis().hget(campaigns.JOBS_KEY, cid)
    fan_out = Job.fetch(job_id.decode(), connection=get_redis())
    count = 0
    for job in backlog:
        job.refresh()
        if job.started_at and fan_out.enqueued_at <= job.started_at < fan_out.started_at:
            count += 1
    return count


def jobs_made(redis) -> int:
    """Send jobs RQ holds (``sms-*``: a message's own or a drain job)."""
    return sum(1 for _ in redis.scan_iter("rq:job:sms-[0-9d]*", count=1000))


def duplicates(cid: int) -> int:
    """Customers with two messages of the campaign, phones with two of its messages that
    are not refusals, and phones of the shop with two disclaimers on their way."""
    m = SmsMessage
    shop = _scalar(select(SmsCampaign.company_id).where(SmsCampaign.id == cid))
    groups = [
        select(m.customer_id).where(m.campaign_id == cid, m.kind == "campaign")
        .group_by(m.customer_id).having(func.count() > 1),
        select(m.phone).where(m.campaign_id == cid, m.kind == "campaign", m.status != "failed")
        .group_by(m.phone).having(func.count() > 1),
        select(m.phone).where(m.company_id == shop, m.kind == "disclaimer", m.status.in_(PENDING))
        .group_by(m.phone).having(func.count() > 1),
    ]  # fmt: skip
    return sum(_scalar(select(func.count()).select_from(g.subquery())) for g in groups)


def sending(cid: int, redis, window: float = 10.0) -> dict:
    """Once every message is written: how soon the first one leaves (the workers' sweeper
    keeps a send job waiting: ``campaigns.drain``), how many leave in the next ``window``
    seconds, and how many RQ send jobs that took."""
    started = time.monotonic()
    sent = (
        select(func.count())
        .select_from(SmsMessage)
        .where(SmsMessage.campaign_id == cid, SmsMessage.status.in_(("sent", "delivered")))
    )
    while _scalar(sent) == 0 and time.monotonic() - started < 60:
        time.sleep(0.1)
    first = time.monotonic() - started
    before = jobs_made(redis)
    time.sleep(window)
    return {
        "first message sent, seconds after the last was written": round(first, 1),
        f"messages sent in the next {window:g} s": _scalar(sent),
        f"RQ send jobs made in those {window:g} s": jobs_made(redis) - before,
    }
