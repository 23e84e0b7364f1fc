"""The carrier's delivery reports (PRODUCT.md §6): a message moves on, never backwards.

A report names the message by the carrier's SID, or, when it overtakes our own record of
that SID, by the message id in the callback URL. A failure report writes the carrier's error
code and reason with the move, or nothing when the move is refused (a late report on a
message already Delivered); Twilio's 21610 opts the phone out (§5).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from host.api import db
from plugins.sms_module.carriers.errors import describe, opts_out
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import FailureCode, SmsMessage, Source, Status, lifecycle
from plugins.sms_module.sending import outbox

log = logging.getLogger(__name__)


def record_report(
    sid: str,
    message_id: int | None,
    reported: Status | None,
    carrier_status: str | None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> SmsMessage | None:
    """Apply a delivery report for the message with carrier SID ``sid`` (or our id
    ``message_id`` while its SID is not recorded yet); commit. Returns the message, or
    ``None`` for a report about a message we do not know or a status we do not read."""
    message = _reported_message(sid, message_id)
    if message is None or reported is None:
        db.session.rollback()
        log.info("status report for unknown message %r (%r) ignored", sid, reported)
        return None
    if message.status in (Status.SCHEDULED, Status.QUEUED):
        lifecycle.move(message, Status.SENDING, Source.PROVIDER_CALLBACK)
    if reported in lifecycle.FAILURES:
        code = error_code or FailureCode.CARRIER_ERROR
        reason = error_message or describe(error_code, carrier_status)
        moved = lifecycle.fail(
            message, code, reason, Source.PROVIDER_CALLBACK, carrier_status, reported
        )
        if moved and opts_out(error_code):
            opt_out.opt_out(message.phone, Source.PROVIDER_ERROR, message.company_id, error_code)
    else:
        lifecycle.move(message, reported, Source.PROVIDER_CALLBACK, carrier_status)
    db.session.commit()
    if reported != Status.SENDING:
        outbox.forget_job(message.id)
    return message


def _reported_message(sid: str, message_id: int | None) -> SmsMessage | None:
    """Return the message a report is about, locked, giving it the SID if it had none."""
    message = None
    if sid:
        message = db.session.scalar(
            select(SmsMessage).where(SmsMessage.provider_sid == sid).with_for_update()
        )
    if message is None and message_id is not None:
        # The report may overtake our own record of the SID: our id is in the URL.
        message = db.session.scalar(
            select(SmsMessage)
            .where(SmsMessage.id == message_id, SmsMessage.provider_sid.is_(None))
            .with_for_update()
        )
        if message is not None:
            message.provider_sid = sid
    return message
