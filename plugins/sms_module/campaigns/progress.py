"""How far each campaign went: its messages counted by outcome, and what it actually cost.

The outcomes (issue 11: "the actual cost and outcome counts afterwards"): waiting (not
handed to the carrier yet), sent (no delivery report yet), delivered, failed (undelivered,
or failed at the carrier), refused (a rule stopped it: no consent, opted out…, its audit row
kept: ``statuses.is_refusal``), canceled (withdrawn before it left). The cost is every
delivery attempt's price (§8), the campaign's messages and the first-SMS disclaimers it
wrote; a test send (no campaign id) is neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from host.api import db
from plugins.sms_module.models import Kind, SmsMessage, Status
from plugins.sms_module.models.statuses import is_refusal

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
CENTS = Decimal("0.01")


@dataclass
class Outcome:
    """A campaign's messages by bucket (``BUCKETS``), and its cost so far, in the operator's
    currency (its messages' and its disclaimers'); ``disclaimers``: the first-SMS
    disclaimers it wrote that were not canceled (sent, or on their way)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    cost: Decimal = Decimal(0)
    disclaimers: int = 0

    @property
    def messages(self) -> int:
        return sum(self.counts.values())


def outcomes(campaign_ids: list[int]) -> dict[int, Outcome]:
    """Count each campaign's messages by outcome and add up their cost (one GROUP BY for
    every campaign given). A refused message is counted as refused, never as failed."""
    found = {cid: Outcome() for cid in campaign_ids}
    if not campaign_ids:
        return found
    # Plain columns in the GROUP BY (a refusal is told apart in Python, ``is_refusal``): the
    # same SQL on SQLite and PostgreSQL.
    query = (
        select(
            SmsMessage.campaign_id,
            SmsMessage.kind,
            SmsMessage.status,
            SmsMessage.failure_code,
            func.count(),
            func.sum(SmsMessage.price * SmsMessage.attempts),
        )
        .where(SmsMessage.campaign_id.in_(campaign_ids))
        .group_by(
            SmsMessage.campaign_id, SmsMessage.kind, SmsMessage.status, SmsMessage.failure_code
        )
    )
    for cid, kind, status, code, total, cost in db.session.execute(query):
        outcome = found[cid]
        outcome.cost += Decimal(str(cost or 0))
        if kind != Kind.CAMPAIGN:
            outcome.disclaimers += total if status != Status.CANCELED else 0
            continue
        bucket = "refused" if is_refusal(status, code) else _BUCKET_OF.get(status)
        if bucket is not None:
            outcome.counts[bucket] += total
    for outcome in found.values():
        outcome.cost = outcome.cost.quantize(CENTS)
    return found
