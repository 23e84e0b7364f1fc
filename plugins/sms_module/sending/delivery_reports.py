"""The carrier's delivery reports (PRODUCT.md §6): a message moves on, never backwards.

A report names the message by the carrier's SID, or, when it overtakes our own record of
that SID, by the message id in the callback URL. A failure report writes the carrier's error
code and reason with the move, or nothing when the move is refused (a late report on a
message already Delivered); Twilio's 21610 opts the phone out (§5), unless the phone opted
in again since the message was handed to the carrier (a late or replayed report).

Whatever the report carries, it is answered: a value no column can hold (a SID longer than
Twilio's, an error code longer than ours) is ignored or replaced, with a log line, never
stored half or refused by the database (issue 13).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from host.api import db
from plugins.sms_module.carriers.errors import opts_out
from plugins.sms_module.carriers.webhooks import clean, fits
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import (
    FailureCode,
    SmsMessage,
    SmsStatusChange,
    Source,
    Status,
    lifecycle,
)
from plugins.sms_module.models.codes import Reason, Step, coded
from plugins.sms_module.sending import outbox

log = logging.getLogger(__name__)

SID_LENGTH = SmsMessage.__table__.c.provider_sid.type.length
CODE_LENGTH = SmsMessage.__table__.c.failure_code.type.length


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
    ``None`` for a report about a message we do not know, a SID no message can have or a
    status we do not read. Any text is accepted (cleaned: ``carriers.webhooks.clean``)."""
    sid, carrier_status = clean(sid), clean(carrier_status)[:200] or None
    error_code, error_message = clean(error_code) or None, clean(error_message) or None
    if len(sid) > SID_LENGTH:
        log.warning("status report with a %d-character SID ignored: %.80r", len(sid), sid)
        return None
    message = _reported_message(sid, message_id)
    if message is None or reported is None:
        db.session.rollback()
        log.info("status report for unknown message %r (%r) ignored", sid, reported)
        return None
    if message.status in (Status.SCHEDULED, Status.QUEUED):
        lifecycle.move(message, Status.SENDING, Source.PROVIDER_CALLBACK)
    if reported in lifecycle.FAILURES:
        _fail(message, reported, carrier_status, error_code, error_message)
    else:
        reported_as = coded(Step.CARRIER_STATUS, carrier_status)
        lifecycle.move(message, reported, Source.PROVIDER_CALLBACK, reported_as)
    db.session.commit()
    if reported != Status.SENDING:
        outbox.forget_job(message.id)
    return message


def _fail(message, reported, carrier_status, error_code, error_message) -> None:
    """Fail ``message`` with the carrier's code (its reason: the same code, read in the
    reader's language by ``texts.reasons``; the carrier's English words only in the log);
    opt its phone out on a 21610 that is not older than the phone's last opt-in."""
    code, reason = carrier_failure(error_code, carrier_status)
    if error_message:
        log.info("message %s: carrier error %s: %.200r", message.id, error_code, error_message)
    if code == FailureCode.CARRIER_ERROR and error_code:
        log.warning(
            "message %s: carrier error code %.80r kept in the reason", message.id, error_code
        )
    source = Source.PROVIDER_CALLBACK
    detail = coded(Step.CARRIER_STATUS, carrier_status)
    moved = lifecycle.fail(message, code, reason, source, detail, reported)
    if not (moved and opts_out(error_code)):
        return
    handed_over = _handed_over_at(message)
    if opt_out.opted_in_since(message.phone, handed_over):
        log.info("message %s: 21610 older than the phone's opt-in: not opted out", message.id)
        return
    opt_out.opt_out(message.phone, Source.PROVIDER_ERROR, message.company_id, error_code)


def carrier_failure(error_code: str | int | None, carrier_status: str | None) -> tuple[str, str]:
    """Return the failure code and reason (both codes: ``codes.Reason``) of a failure the
    carrier reported: its error code for both; ``carrier_error`` with the carrier's status
    word when it gave none; ``carrier_error`` with ``"carrier_code: <code>"`` for a code
    longer than the column (issue 13: cut to 60 characters)."""
    if not error_code:
        return FailureCode.CARRIER_ERROR, coded(FailureCode.CARRIER_ERROR, carrier_status)
    code = str(error_code)
    if not fits(code, CODE_LENGTH):
        return FailureCode.CARRIER_ERROR, coded(Reason.CARRIER_CODE, code[:60])
    return code, code


def _handed_over_at(message: SmsMessage):
    """Return when ``message`` last went to the carrier (its last Sending), else its birth."""
    at = db.session.scalar(
        select(SmsStatusChange.at)
        .where(SmsStatusChange.message_id == message.id, SmsStatusChange.status == Status.SENDING)
        .order_by(SmsStatusChange.id.desc())
        .limit(1)
    )
    return at or message.created_at


def _reported_message(sid: str, message_id: int | None) -> SmsMessage | None:
    """Return the message a report is about, locked, giving it the SID if it had none."""
    message = None
    if sid:
        message = db.session.scalar(
            select(SmsMessage).where(SmsMessage.provider_sid == sid).with_for_update()
        )
    if message is None and message_id is not None and sid:
        # The report may overtake our own record of the SID: our id is in the URL.
        message = db.session.scalar(
            select(SmsMessage)
            .where(SmsMessage.id == message_id, SmsMessage.provider_sid.is_(None))
            .with_for_update()
        )
        if message is not None:
            message.provider_sid = sid
    return message
