"""Delivery reports fetched when they do not come (issue 15, point 3).

A delivery report posted while our database was away is lost: the carrier does not post it
again. So a Sent message with no final status ``SMS_STATUS_FETCH_AFTER_HOURS`` (12: Twilio's
advice) after the carrier accepted it is asked of the carrier by its SID, and again every
``SMS_STATUS_FETCH_EVERY_HOURS`` until the 72-hour "no delivery report" mark
(``statuses.no_report_cutoff``): after that it keeps that label, for what the carrier
itself never reports. The answer goes through the path of a delivery report
(``delivery_reports.record_report``): a message moves on, never backwards, and a status it
has already is not stored twice.

A run (``fetch_due``, the periodic task ``sms-status-fetch``) asks for one batch, at most
``SMS_CARRIER_API_PER_SECOND`` requests a second (``Pacer``) for ``RUN_SECONDS``; the
carrier's acceptance is the message's last change (``updated_at``, as for the 72-hour
label), which marking it checked leaves as it is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from host.api import db, utcnow
from plugins.sms_module.carriers.base import Carrier, CarrierError
from plugins.sms_module.carriers.webhooks import local_status
from plugins.sms_module.models import Direction, SmsMessage, Status
from plugins.sms_module.models.statuses import no_report_cutoff
from plugins.sms_module.sending.delivery_reports import record_report

log = logging.getLogger(__name__)

# Seconds of requests one run makes at most: a run holds the worker's periodic tasks.
RUN_SECONDS = 5


class Pacer:
    """Spaces calls so that no more than ``per_second`` start in any second: each waits
    until ``1 / per_second`` seconds after the one before. ``clock`` and ``sleep`` are
    ``time.monotonic`` and ``time.sleep`` (a test gives its own)."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.gap = 1.0 / per_second
        self.clock = clock
        self.sleep = sleep
        self.last: float | None = None

    def wait(self) -> None:
        """Return when the next call may start."""
        if self.last is not None:
            pause = self.last + self.gap - self.clock()
            if pause > 0:
                self.sleep(pause)
        self.last = self.clock()


def due(now: datetime, config, limit: int) -> list[tuple[int, str]]:
    """Return (id, SID) of at most ``limit`` Sent outbound messages accepted between 72 hours
    (and one fetch interval) and ``SMS_STATUS_FETCH_AFTER_HOURS`` ago, not checked in the
    last ``SMS_STATUS_FETCH_EVERY_HOURS``; never checked first, then the longest unchecked."""
    after = now - timedelta(hours=config["SMS_STATUS_FETCH_AFTER_HOURS"])
    every = timedelta(hours=config["SMS_STATUS_FETCH_EVERY_HOURS"])
    oldest = no_report_cutoff(now) - every
    checked = SmsMessage.status_checked_at
    rows = db.session.execute(
        select(SmsMessage.id, SmsMessage.provider_sid)
        .where(
            SmsMessage.status == Status.SENT,
            SmsMessage.updated_at <= after,
            SmsMessage.updated_at >= oldest,
            SmsMessage.direction == Direction.OUTBOUND,
            SmsMessage.provider_sid.is_not(None),
            or_(checked.is_(None), checked <= now - every),
        )
        .order_by(checked.is_not(None), checked, SmsMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    return [(row.id, row.provider_sid) for row in rows]


def fetch_due(carrier: Carrier, config, pacer: Pacer | None = None) -> int:
    """Ask the carrier for the status of each message ``due`` (one batch) and apply each
    answer as a delivery report; return how many were asked. A transient carrier error
    ends the run (the rest are asked next time); a final one skips that message."""
    per_second = config["SMS_CARRIER_API_PER_SECOND"]
    pacer = pacer or Pacer(per_second)
    asked = 0
    for message_id, sid in due(utcnow(), config, max(1, int(per_second * RUN_SECONDS))):
        pacer.wait()
        try:
            found = carrier.fetch(sid)
        except CarrierError as error:
            if error.transient:
                log.warning("status fetch stopped: the carrier answered %s", error.message)
                break
            log.warning("status of message %s not fetched: %s", message_id, error.message)
            found = None
        asked += 1
        mark_checked(message_id)
        if found is None:
            log.warning("message %s: the carrier has no message %s", message_id, sid)
            continue
        code = str(found.error_code) if found.error_code is not None else None
        reported = local_status(found.status)
        record_report(sid, message_id, reported, found.status, code, found.error_message)
    return asked


def mark_checked(message_id: int) -> None:
    """Note that the carrier was asked for the message's status now, leaving its
    ``updated_at`` (the acceptance the 72-hour label counts from) as it is; commit."""
    db.session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message_id)
        .values(status_checked_at=utcnow(), updated_at=SmsMessage.updated_at),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
