"""How far each campaign went: its messages counted by what happened to them."""

from __future__ import annotations

from sqlalchemy import case, func, select

from host.api import db
from plugins.sms_module.models import SmsMessage, Status

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
