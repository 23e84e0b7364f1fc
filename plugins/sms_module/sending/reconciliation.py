"""The carrier's answer to a send, and the question asked when a send was interrupted.

Sending is committed before the carrier is called and the carrier's SID after, so a
message found in Sending with no worker on it was interrupted mid-call: the carrier is
asked what it has (``already_sent``) before anything is sent again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from host.api import db, utcnow
from plugins.sms_module.carriers.base import Carrier, CarrierError, CarrierMessage
from plugins.sms_module.carriers.errors import opts_out
from plugins.sms_module.carriers.webhooks import local_status
from plugins.sms_module.compliance import disclaimer, opt_out
from plugins.sms_module.models import FailureCode, SmsMessage, Source, Status, lifecycle
from plugins.sms_module.models.codes import Step, coded
from plugins.sms_module.sending import outbox
from plugins.sms_module.sending.delivery_reports import carrier_failure
from plugins.sms_module.sending.outcomes import Outcome, SendResult

log = logging.getLogger(__name__)

# How far back, before the message's last change, the carrier's list is searched.
FIND_WINDOW = timedelta(minutes=5)


def locked(message_id: int) -> SmsMessage | None:
    """Return the message, its row locked until the commit (None if it is gone)."""
    return db.session.scalar(
        select(SmsMessage).where(SmsMessage.id == message_id).with_for_update()
    )


def already_sent(carrier: Carrier, message: SmsMessage) -> CarrierMessage | None:
    """Ask the carrier whether it took ``message`` before our record of it was cut off."""
    if message.provider_sid:
        return carrier.fetch(message.provider_sid)
    if not message.sender_number:
        return None
    since = message.updated_at - FIND_WINDOW
    found = carrier.find(to=message.phone, from_=message.sender_number, sent_after=since)
    for candidate in found:
        if candidate.sid and not db.session.scalar(
            select(SmsMessage.id).where(SmsMessage.provider_sid == candidate.sid)
        ):
            return candidate
    return None


def record_sent(message: SmsMessage, receipt: CarrierMessage, source: str) -> None:
    """Record the carrier's receipt: Sent with its SID (or further, if it says so); commit."""
    message.provider_sid = message.provider_sid or receipt.sid
    lifecycle.move(message, Status.SENT, source, coded(Step.CARRIER_ACCEPTED, receipt.sid))
    disclaimer.record_sent(message)
    reported = local_status(receipt.status)
    if reported in lifecycle.FAILURES:
        code, reason = carrier_failure(receipt.error_code, receipt.status)
        detail = coded(Step.CARRIER_STATUS, receipt.status)
        lifecycle.fail(message, code, reason, source, detail, reported)
    elif reported is not None and reported != Status.SENT:
        lifecycle.move(message, reported, source, coded(Step.CARRIER_STATUS, receipt.status))
    db.session.commit()
    outbox.forget_job(message.id)


def carrier_refused(message_id: int, error: CarrierError, config) -> SendResult:
    """Try a transient carrier error again later (``SMS_MAX_ATTEMPTS``, backing off from
    ``SMS_RETRY_BASE_SECONDS``); fail the message on a final one; commit."""
    message = locked(message_id)
    if error.transient and message.attempts < config["SMS_MAX_ATTEMPTS"]:
        delay = config["SMS_RETRY_BASE_SECONDS"] * 2 ** (message.attempts - 1)
        log.info("message %s: %s; trying again in %gs", message_id, error.message, delay)
        retry = coded(Step.RETRY, f"{delay:g} {error.code or '-'}")
        lifecycle.note(message, Status.SENDING, Source.MODULE, retry)
        db.session.commit()
        # Still Sending: the retry asks the carrier first, in case it did take the message.
        outbox.enqueue(message, at=utcnow() + timedelta(seconds=delay), force=True)
        return SendResult(Outcome.RETRY)
    log.info("message %s: the carrier refused it: %s", message_id, error.message)
    code = str(error.code) if error.code else FailureCode.CARRIER_ERROR
    moved = lifecycle.fail(message, code, None, Source.MODULE)
    if moved and opts_out(error.code):
        opt_out.opt_out(message.phone, Source.PROVIDER_ERROR, message.company_id, str(error.code))
    db.session.commit()
    outbox.forget_job(message_id)
    return SendResult(Outcome.FAILED, message.failure_code)
