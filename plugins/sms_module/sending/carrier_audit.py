"""The daily reconciliation with the carrier (issue 15, point 3): once a UTC day, the day
before's messages are compared with the carrier's list of that day.

- Ours with a SID the carrier's list lacks are fetched one by one (a message the carrier
  never sent on, or sent just past midnight, is not in the day's list); one the carrier does
  not have even then is *missing at the carrier*.
- The carrier's, from our sender numbers, that no message claims are matched to a message
  left in Sending with no SID, by the rule of ``carrier_match``, when the match is not
  ambiguous (the message is then recorded Sent, as its reconciliation would); any other is
  *unknown at the carrier*.

Each day's figures are kept in ``sms_carrier_audit`` (the first ``DETAIL_ROWS`` message ids
and SIDs of each kind with them) and the latest are shown to the operator. Requests keep to
``SMS_CARRIER_API_PER_SECOND`` (``status_fetch.Pacer``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from host.api import db, get_redis, utcnow
from plugins.sms_module.carriers.base import Carrier, CarrierMessage
from plugins.sms_module.models import (
    Direction,
    SenderNumber,
    SmsCarrierAudit,
    SmsMessage,
    Source,
    Status,
)
from plugins.sms_module.sending import carrier_match, outbox, reconciliation
from plugins.sms_module.sending.lease import Lease
from plugins.sms_module.sending.status_fetch import Pacer

log = logging.getLogger(__name__)

DETAIL_ROWS = 50  # message ids and SIDs kept with a day's figures, of each kind
# An audit started this long ago and not finished (its worker died) is started again.
RESTART_AFTER = timedelta(hours=1)


def run_due(carrier: Carrier, config, pacer: Pacer | None = None) -> SmsCarrierAudit | None:
    """Audit yesterday (UTC) unless it is done or another worker is on it; return the
    finished row, or ``None`` when there was nothing to do. Raises ``CarrierError`` (the
    row stays unfinished and is started again after ``RESTART_AFTER``)."""
    now = utcnow()
    day = now.date() - timedelta(days=1)
    if not _claim(day, now):
        return None
    return audit(day, carrier, config, pacer or Pacer(config["SMS_CARRIER_API_PER_SECOND"]))


def _claim(day: date, now: datetime) -> bool:
    """Take the ``day``'s audit: a new row, or an unfinished one started long ago."""
    row = db.session.get(SmsCarrierAudit, day)
    if row is not None:
        if row.finished_at is not None or row.started_at > now - RESTART_AFTER:
            db.session.rollback()
            return False
        row.started_at = now
    else:
        db.session.add(SmsCarrierAudit(day=day, started_at=now))
    try:
        db.session.commit()
    except IntegrityError:  # another worker took it a moment ago
        db.session.rollback()
        return False
    return True


def audit(day: date, carrier: Carrier, config, pacer: Pacer) -> SmsCarrierAudit:
    """Compare ``day``'s messages with the carrier's list and store the figures; commit."""
    ours_by_sid = _ours(day)
    numbers = set(db.session.scalars(select(SenderNumber.number)))
    listed: dict[str, CarrierMessage] = {}
    pages = carrier.list_sent(day)
    while True:
        pacer.wait()  # one request per page
        page = next(pages, None)
        if page is None:
            break
        listed.update((m.sid, m) for m in page if m.from_ in numbers and m.sid)
    missing = []
    for sid, message_id in sorted(ours_by_sid.items(), key=lambda item: item[1]):
        if sid in listed:
            continue
        pacer.wait()
        if carrier.fetch(sid) is None:
            missing.append(message_id)
    unclaimed = sorted(set(listed) - carrier_match.claimed_sids(list(listed)))
    unknown, matched = [], 0
    for sid in unclaimed:
        if _match_unresolved(listed[sid], carrier, config, pacer):
            matched += 1
        else:
            unknown.append(sid)
    row = db.session.get(SmsCarrierAudit, day)
    row.checked, row.carrier_listed, row.matched = len(ours_by_sid), len(listed), matched
    row.missing_at_carrier, row.unknown_at_carrier = len(missing), len(unknown)
    row.details = json.dumps({"missing": missing[:DETAIL_ROWS], "unknown": unknown[:DETAIL_ROWS]})
    row.finished_at = utcnow()
    db.session.commit()
    if missing or unknown:
        log.warning(
            "carrier audit of %s: %d missing at the carrier, %d unknown to us",
            day,
            len(missing),
            len(unknown),
        )
    return row


def _ours(day: date) -> dict[str, int]:
    """Return {SID: message id} of our outbound messages whose (latest) attempt began on
    ``day`` (UTC), or that were created then when no attempt was recorded."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    began = func.coalesce(SmsMessage.attempt_started_at, SmsMessage.created_at)
    rows = db.session.execute(
        select(SmsMessage.provider_sid, SmsMessage.id).where(
            SmsMessage.direction == Direction.OUTBOUND,
            SmsMessage.provider_sid.is_not(None),
            began >= start,
            began < start + timedelta(days=1),
        )
    ).all()
    return {sid: message_id for sid, message_id in rows}


def _match_unresolved(record: CarrierMessage, carrier: Carrier, config, pacer: Pacer) -> bool:
    """Record ``record`` as the Sent message it is, if exactly one message left in Sending
    could be its and the rule of ``carrier_match`` gives it that very record."""
    possible = [
        m
        for m in carrier_match.unresolved(record.to, record.from_, record.body)
        if (span := carrier_match.window(m, config)) is not None
        and carrier_match.matches(record, m, span)
    ]
    if len(possible) != 1:
        return False
    message_id = possible[0].id
    # Held while it is settled here, so that no send job acts on it at the same time.
    held = Lease(get_redis(), outbox.lease_key(message_id), config["SMS_LEASE_TTL_SECONDS"])
    if not held.acquire():
        return False
    try:
        message = reconciliation.locked(message_id)
        if message.status != Status.SENDING or message.provider_sid is not None:
            db.session.rollback()
            return False
        pacer.wait()
        found = carrier_match.verdict(carrier, message, config).found
        if found is None or found.sid != record.sid:
            db.session.rollback()
            return False
        return reconciliation.record_sent(message, found, Source.RECONCILIATION)
    finally:
        held.release()


def latest() -> SmsCarrierAudit | None:
    """Return the latest finished audit (the operator's start page shows its figures)."""
    return db.session.scalar(
        select(SmsCarrierAudit)
        .where(SmsCarrierAudit.finished_at.is_not(None))
        .order_by(SmsCarrierAudit.day.desc())
        .limit(1)
    )
