"""A fan-out chunk's rows, written in bulk (issue 14 point 4): a few statements per chunk
(``bulk``), never one per customer.

Each row is the one the send service writes for the same request (``service._accept``,
``service._keep_refusal``, ``disclaimer.schedule_first``), with the same history
(``lifecycle.start``, ``move``, ``refused``): a campaign message is Accepted, then
Scheduled (``due: <its time>``), then Queued when it is due; a refused customer's message
is Failed with the rule's code, its reason that code; the shop's disclaimer to a phone it
never texted is written before the message, on the campaign's queue (it travels with the
campaign), due at the same time. Every message of the campaign carries the key
``campaign:<campaign>:<customer>``, unique: a chunk written twice fails whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from host.api import platform_now
from plugins.sms_module.campaigns import bulk
from plugins.sms_module.campaigns.chunks import KIND, QUEUE, Plan, Text, dedupe_key
from plugins.sms_module.models import (
    Direction,
    Kind,
    SmsMessage,
    SmsStatusChange,
    Source,
    Status,
)
from plugins.sms_module.models.codes import Step, coded

SOURCE = Source.CAMPAIGN
OUTBOUND = Direction.OUTBOUND.value
PROMOTIONAL = QUEUE.value
# A message this close to its send time is due: it goes Queued (as ``outbox.enqueue``).
DUE_MARGIN = timedelta(milliseconds=200)


@dataclass(frozen=True)
class Batch:
    """What a chunk's rows share: whose, by whom, when due, and whether due already."""

    company_id: int
    campaign_id: int
    user_id: int | None
    send_at: datetime
    now: datetime

    @property
    def queued(self) -> bool:
        return self.send_at <= platform_now() + DUE_MARGIN


# The columns a chunk's messages fill, in the order of ``_message``'s values.
COLUMNS = (
    "company_id",
    "customer_id",
    "direction",
    "kind",
    "phone",
    "body",
    "queue",
    "status",
    "failure_code",
    "failure_reason",
    "segments",
    "encoding",
    "price_per_segment",
    "price",
    "currency",
    "send_at",
    "attempts",
    "dedupe_key",
    "campaign_id",
    "created_by_id",
    "created_at",
    "updated_at",
)
STEP_COLUMNS = ("message_id", "status", "at", "source", "detail")


def write(batch: Batch, plan: Plan, found: dict, notes: dict, told: set[str]) -> tuple[int, int]:
    """Write the chunk: the disclaimers of ``plan.first_contact`` but the phones in ``told``
    (written by another process meanwhile), then the accepted and the refused messages,
    each with its history; return (messages, disclaimers) written. The caller commits."""
    waiting = [Status.ACCEPTED, Status.SCHEDULED] + ([Status.QUEUED] if batch.queued else [])
    status = waiting[-1].value
    firsts = [
        _message(batch, row, notes[language], Kind.DISCLAIMER.value, status)
        for phone, (row, language) in plan.first_contact.items()
        if phone not in told
    ]
    first_steps = [
        (Source.MODULE.value, Step.DISCLAIMER.value),
        (Source.MODULE.value, None),
        (Source.MODULE.value, None),
    ]
    _history(_insert(firsts), waiting, first_steps, batch.now)

    # A language whose text became malformed meanwhile (an edit) gets nothing, as the send
    # service would store nothing for it.
    accepted = [
        _message(batch, row, found[language], KIND.value, status)
        for row, language in plan.accepted
        if found.get(language) is not None
    ]
    steps = [
        (SOURCE.value, None),
        (Source.MODULE.value, coded(Step.DUE, batch.send_at.isoformat())),
        (Source.MODULE.value, None),
    ]
    _history(_insert(accepted), waiting, steps, batch.now)

    by_code: dict[str, list[tuple]] = {}
    for row, language, code in plan.refused:
        if found.get(language) is None:
            continue
        by_code.setdefault(str(code), []).append(_refusal(batch, row, found[language], code))
    for code, refused in by_code.items():
        steps = [(SOURCE.value, coded(Step.REFUSED, code))]
        _history(_insert(refused), [Status.FAILED], steps, batch.now)
    return len(accepted) + sum(map(len, by_code.values())), len(firsts)


def _message(batch: Batch, row, text: Text, kind: str, status: str) -> tuple:
    """A waiting message of the chunk (``texts.pricing.new_message``'s columns); the
    campaign's own carries its key, the disclaimer is the module's (as
    ``disclaimer.schedule_first`` writes it)."""
    mine = kind == KIND.value
    return (
        batch.company_id,
        row.id,
        OUTBOUND,
        kind,
        row.mobile_phone,
        text.body,
        PROMOTIONAL,
        status,
        None,
        None,
        text.segments,
        text.encoding,
        text.price_per_segment,
        text.price,
        text.currency,
        batch.send_at,
        0,
        dedupe_key(batch.campaign_id, row.id) if mine else None,
        batch.campaign_id,
        batch.user_id if mine else None,
        batch.now,
        batch.now,
    )


def _refusal(batch: Batch, row, text: Text, code: str) -> tuple:
    """A refused customer's Failed message: its code, the code as its reason (issue 12),
    no price, no send time (``service._keep_refusal``), and the campaign's key."""
    return (
        batch.company_id,
        row.id,
        OUTBOUND,
        KIND.value,
        row.mobile_phone,
        text.body,
        PROMOTIONAL,
        Status.FAILED.value,
        str(code),
        str(code),
        0,
        "GSM-7",
        0,
        0,
        text.currency,
        None,
        0,
        dedupe_key(batch.campaign_id, row.id),
        batch.campaign_id,
        batch.user_id,
        batch.now,
        batch.now,
    )


def _insert(rows: list[tuple]) -> list[int]:
    """Insert ``rows`` (of ``COLUMNS``) into ``sms_message``; return their ids."""
    return bulk.insert_returning_ids(SmsMessage.__table__, COLUMNS, rows)


def _history(ids: list[int], statuses: list[Status], steps: list[tuple], at) -> None:
    """Give each message of ``ids`` its history: a line per status of ``statuses``, each
    with its (source, detail) of ``steps``."""
    lines = [
        (mid, status.value, at, source, detail)
        for mid in ids
        for status, (source, detail) in zip(statuses, steps, strict=False)
    ]
    bulk.insert_rows(SmsStatusChange.__table__, STEP_COLUMNS, lines)
