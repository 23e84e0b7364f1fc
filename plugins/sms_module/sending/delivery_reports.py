"""The carrier's delivery reports (PRODUCT.md §6): a message moves on, never backwards.

A report names the message by the carrier's SID, or, when it overtakes our own record of
that SID, by the message id in the callback URL. A failure report writes the carrier's error
code and reason with the move, or nothing when the move is refused (a late report on a
message already Delivered); Twilio's 21610 opts the phone out (§5), unless the phone opted
in again since the message was handed to the carrier (a late or replayed report).

The usual report, about a message the carrier has, is one compare-and-set statement keyed
by the SID with its history line (``report_moves``: one round trip to PostgreSQL, the
database itself refusing a move backwards, also between two reports racing); only a report
overtaking our own record, or a 21610, takes the longer way (issue 14, point 5).

Whatever the report carries, it is answered: a value no column can hold (a SID longer than
Twilio's, an error code longer than ours) is ignored or replaced, with a log line, never
stored half or refused by the database (issue 13).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from host.api import db, utcnow
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
from plugins.sms_module.sending import alone, outbox, report_moves

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
) -> int | None:
    """Apply a delivery report for the message with carrier SID ``sid`` (or our id
    ``message_id`` while its SID is not recorded yet); commit. Returns the message's id, or
    ``None`` for a report about a message we do not know, a SID no message can have or a
    status we do not read. Any text is accepted (cleaned: ``carriers.webhooks.clean``).

    The usual report (a message the carrier has, known by its SID) costs one SQL statement
    on PostgreSQL and two on SQLite, moving or not (``report_moves``; issue 14, point 5)."""
    sid, carrier_status = clean(sid), clean(carrier_status)[:200] or None
    error_code, error_message = clean(error_code) or None, clean(error_message) or None
    if len(sid) > SID_LENGTH:
        log.warning("status report with a %d-character SID ignored: %.80r", len(sid), sid)
        return None
    if not sid or reported is None:
        log.info("status report for unknown message %r (%r) ignored", sid, reported)
        return None
    detail = coded(Step.CARRIER_STATUS, carrier_status)
    failure = None
    if reported in lifecycle.FAILURES:
        failure = carrier_failure(error_code, carrier_status)
        _log_error(message_id or sid, error_code, error_message, failure[0])
    opting_out = failure is not None and opts_out(error_code)  # with the move, or neither
    found = report_moves.move_by_sid(
        sid, reported, Source.PROVIDER_CALLBACK, detail, utcnow(), failure, not opting_out
    )
    if found is None and message_id is None:
        alone.commit()
        log.info("status report for unknown message %r (%r) ignored", sid, reported)
        return None
    if found is None or (not found.moved and found.status in BEFORE_HAND_OVER):
        # A report overtaking our own record of the hand-over (its SID, or its Sending):
        # the statement changed nothing; the longer way runs in a transaction of its own.
        db.session.commit()
        return _record_early(sid, message_id, reported, detail, failure, error_code)
    if found.moved and opting_out:
        _opt_out_unless_opted_in(db.session.get(SmsMessage, found.message_id), error_code)
    alone.commit()
    if found.moved and found.status in (Status.SENDING, None):
        # Moved on before our own record of the hand-over: its send job is done with it. (A
        # Sent message's job id was dropped when it was recorded Sent.)
        outbox.forget_job(found.message_id)
    return found.message_id


# The statuses of a message that has not reached the carrier yet by our own record.
BEFORE_HAND_OVER = frozenset({Status.ACCEPTED, Status.SCHEDULED, Status.QUEUED})


def _record_early(sid, message_id, reported, detail, failure, error_code) -> int | None:
    """Apply a report about a message our own record does not show at the carrier yet: its
    SID not recorded (found by our id in the callback URL, given the SID) or its Sending
    not committed (moved through Sending first); commit."""
    message = _reported_message(sid, message_id)
    if message is None:
        db.session.rollback()
        log.info("status report for unknown message %r (%r) ignored", sid, reported)
        return None
    if message.status in (Status.SCHEDULED, Status.QUEUED):
        lifecycle.move(message, Status.SENDING, Source.PROVIDER_CALLBACK)
    source = Source.PROVIDER_CALLBACK
    if failure is None:
        moved = lifecycle.move(message, reported, source, detail)
    else:
        moved = lifecycle.fail(message, *failure, source, detail, reported)
        if moved and opts_out(error_code):
            _opt_out_unless_opted_in(message, error_code)
    found_id = message.id
    db.session.commit()
    if moved:
        outbox.forget_job(found_id)
    return found_id


def _log_error(message_id, error_code, error_message, code) -> None:
    """Log the carrier's words about a failure (never stored: ``carrier_failure``)."""
    if error_message:
        log.info("message %s: carrier error %s: %.200r", message_id, error_code, error_message)
    if code == FailureCode.CARRIER_ERROR and error_code:
        log.warning(
            "message %s: carrier error code %.80r kept in the reason", message_id, error_code
        )


def _opt_out_unless_opted_in(message: SmsMessage, error_code: str) -> None:
    """Opt ``message``'s phone out for the carrier's 21610 (PRODUCT.md §5), unless the phone
    opted in again since the message was handed to the carrier (a late or replayed report)."""
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
        # The report may overtake our own record of the SID: our id is in the URL. Locked
        # by id alone: when the send job's record of that SID is being committed, the lock
        # waits for it and reads the row as committed, SID included (a condition on the SID
        # being NULL would skip the row then, and the report would be lost).
        message = db.session.scalar(
            select(SmsMessage).where(SmsMessage.id == message_id).with_for_update()
        )
        if message is not None and message.provider_sid is None:
            message.provider_sid = sid
        elif message is not None and message.provider_sid != sid:
            return None  # another record of ours at the carrier: not this report's message
    return message
