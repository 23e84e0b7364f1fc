"""Which of the carrier's records is our message: the rule reconciliation follows when a
message is found in Sending with no SID (issue 15, point 2).

Twilio takes no idempotency key on a create, so a message is recognised by what only it can
match. A carrier record is message M's only if:

- its recipient, sender number and body equal M's, compared exactly (Twilio keeps the body
  as it was sent from a number; only a Messaging Service's Smart Encoding, which we do not
  use, or the account's message redaction would change it: then nothing matches and the
  message is sent again, as before this rule);
- it was created in M's attempt window: from the first attempt's start less
  ``SMS_RECONCILE_SKEW_SECONDS`` (our clocks against the carrier's) to the latest attempt's
  start plus ``SMS_SEND_LEASE_SECONDS`` and that skew;
- no message of ours claims its SID (``SmsMessage.provider_sid`` is unique).

The verdict is *found* (take it), *not there* (send again) or *ambiguous* (neither: wait).
Ambiguous: more than one record matches, or another message of ours with the same
recipient, sender number and body is unresolved too (Sending, no SID) with an overlapping
window while its worker is still in the carrier call (its Redis lease is held): that record
may be the other's. When no such rival is in the call, none of them will claim a record on
its own, and the records are interchangeable (same recipient, number and text): each takes
the record of its rank (first attempt, then id; records by creation, then SID), and those
ranked past the last record are sent again, so as many leave as were asked for. More
records than unresolved messages stays ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from host.api import db, get_redis
from plugins.sms_module.carriers.base import Carrier, CarrierMessage
from plugins.sms_module.models import Direction, SmsMessage, SmsStatusChange, Status
from plugins.sms_module.sending import outbox


@dataclass(frozen=True)
class Verdict:
    """What the carrier has of a message: ``found`` (its record), ``ambiguous`` (wait), or
    neither (not at the carrier: send again). ``candidates``: the records that matched."""

    found: CarrierMessage | None = None
    ambiguous: bool = False
    candidates: int = 0


NOT_THERE = Verdict()


@dataclass(frozen=True)
class Window:
    """When a message's carrier record may have been created (aware UTC datetimes)."""

    start: datetime
    end: datetime

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment <= self.end

    def overlaps(self, other: Window) -> bool:
        return self.start <= other.end and other.start <= self.end


def first_attempt_at(message: SmsMessage) -> datetime | None:
    """Return when ``message`` first went to Sending (its history's first Sending line)."""
    return db.session.scalar(
        select(func.min(SmsStatusChange.at)).where(
            SmsStatusChange.message_id == message.id, SmsStatusChange.status == Status.SENDING
        )
    )


def window(message: SmsMessage, config) -> Window | None:
    """Return ``message``'s attempt window, every attempt's included (see the module's
    docstring); ``None`` for a message that never went to the carrier."""
    first = first_attempt_at(message)
    last = message.attempt_started_at or first
    if first is None or last is None:
        return None
    skew = timedelta(seconds=config["SMS_RECONCILE_SKEW_SECONDS"])
    lease = timedelta(seconds=config["SMS_SEND_LEASE_SECONDS"])
    return Window(min(first, last) - skew, last + lease + skew)


def matches(record: CarrierMessage, message: SmsMessage, span: Window) -> bool:
    """Tell whether the carrier's ``record`` could be ``message``'s: same recipient, sender
    number and body, created within ``span`` (its SID's claim is checked apart)."""
    return (
        bool(record.sid)
        and record.to == message.phone
        and record.from_ == message.sender_number
        and record.body == message.body
        and span.holds(record.date_created)
    )


def claimed_sids(sids: list[str]) -> set[str]:
    """Return those of ``sids`` a message of ours already claims."""
    if not sids:
        return set()
    return set(
        db.session.scalars(select(SmsMessage.provider_sid).where(SmsMessage.provider_sid.in_(sids)))
    )


def candidates(carrier: Carrier, message: SmsMessage, span: Window) -> list[CarrierMessage]:
    """Return the carrier's unclaimed records matching ``message``, oldest first; raise
    ``CarrierError`` when the carrier cannot be asked."""
    found = carrier.find(to=message.phone, from_=message.sender_number, created_after=span.start)
    unique = {r.sid: r for r in found if matches(r, message, span)}
    claimed = claimed_sids(list(unique))
    kept = [r for sid, r in unique.items() if sid not in claimed]
    return sorted(kept, key=lambda r: (r.date_created, r.sid))


def unresolved(phone: str, sender_number: str, body: str) -> list[SmsMessage]:
    """Return our outbound messages in Sending with no SID to ``phone`` from
    ``sender_number`` with ``body``: the ones a carrier record of that text could be."""
    return list(
        db.session.scalars(
            select(SmsMessage).where(
                SmsMessage.direction == Direction.OUTBOUND,
                SmsMessage.status == Status.SENDING,
                SmsMessage.provider_sid.is_(None),
                SmsMessage.phone == phone,
                SmsMessage.sender_number == sender_number,
                SmsMessage.body == body,
            )
        )
    )


def unresolved_like(message: SmsMessage) -> list[SmsMessage]:
    """Return the other messages in Sending with no SID, to the same phone, from the same
    number, with the same body: the ones a matching record could belong to."""
    found = unresolved(message.phone, message.sender_number, message.body)
    return [other for other in found if other.id != message.id]


def in_call(message_id: int) -> bool:
    """Tell whether a worker holds the message's lease (it may be in the carrier call)."""
    return bool(get_redis().exists(outbox.lease_key(message_id)))


def verdict(carrier: Carrier, message: SmsMessage, config) -> Verdict:
    """Return what the carrier has of ``message`` (Sending, interrupted or retried) by the
    rule of this module; raise ``CarrierError`` when the carrier cannot be asked."""
    if message.provider_sid:
        found = carrier.fetch(message.provider_sid)
        return Verdict(found, candidates=1) if found is not None else NOT_THERE
    span = window(message, config) if message.sender_number else None
    if span is None:
        return NOT_THERE
    records = candidates(carrier, message, span)
    if not records:
        return NOT_THERE
    rivals = [
        (rival, rival_span)
        for rival in unresolved_like(message)
        if (rival_span := window(rival, config)) is not None and rival_span.overlaps(span)
    ]
    if not rivals:
        if len(records) == 1:
            return Verdict(records[0], candidates=1)
        return Verdict(ambiguous=True, candidates=len(records))
    return _ranked(message, span, records, rivals)


def _ranked(message, span, records, rivals) -> Verdict:
    """Share interchangeable records among unresolved look-alikes none of which is in the
    carrier call (the module's docstring); ambiguous otherwise."""
    ambiguous = Verdict(ambiguous=True, candidates=len(records))
    if len(records) > len(rivals) + 1 or any(in_call(rival.id) for rival, _ in rivals):
        return ambiguous
    if not all(s.holds(r.date_created) for _, s in rivals for r in records):
        return ambiguous
    group = sorted([(span.start, message.id)] + [(s.start, rival.id) for rival, s in rivals])
    rank = group.index((span.start, message.id))
    return Verdict(records[rank], candidates=len(records)) if rank < len(records) else NOT_THERE
