"""The carrier's answer to a send, and the question asked when a send was interrupted.

Sending is committed before the carrier is called and the carrier's SID after, so a
message found in Sending with no worker on it (its lease expired) or retried after a
transient carrier error may be at the carrier already: the carrier is asked what it has
(``reconcile``, by the rule of ``carrier_match``) before anything is sent again. A record
that may be another message's is neither taken nor sent again: the message waits
(``SMS_RECONCILE_WAIT_SECONDS``) and is examined again, and is flagged to the operator after
``SMS_RECONCILE_MAX_WAIT_MINUTES`` (issue 15, point 2). A carrier SID is claimed by at most
one message.
"""

from __future__ import annotations

import functools
import logging
import random
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from host.api import db, platform_now, utcnow
from plugins.sms_module.carriers.base import Carrier, CarrierError, CarrierMessage
from plugins.sms_module.carriers.errors import opts_out
from plugins.sms_module.carriers.webhooks import local_status
from plugins.sms_module.compliance import disclaimer, opt_out
from plugins.sms_module.models import (
    FailureCode,
    SmsMessage,
    SmsStatusChange,
    Source,
    Status,
    lifecycle,
)
from plugins.sms_module.models.codes import Step, coded, uncoded
from plugins.sms_module.sending import alone, carrier_match, outbox, report_moves
from plugins.sms_module.sending.delivery_reports import carrier_failure
from plugins.sms_module.sending.outcomes import Outcome, SendResult

log = logging.getLogger(__name__)

# What a send job returns while its message waits on an ambiguous match ("retry: ...").
AMBIGUOUS = "ambiguous_match"
CARRIER_UNREACHABLE = "carrier_unreachable"
ATTEMPT_IN_FLIGHT = "attempt_in_flight"


def locked(message_id: int) -> SmsMessage | None:
    """Return the message, its row locked until the commit (None if it is gone)."""
    return db.session.scalar(_locked_statement(), {"message_id": message_id})


@functools.cache
def _locked_statement():
    """``locked``'s statement, built once (a send reads its message locked twice; issue 14
    point 7: building it anew on every call cost more Python than running it). Built on
    first use, not at import: importing configures no mapper (``host.worker``)."""
    return (
        select(SmsMessage)
        .where(SmsMessage.id == bindparam("message_id"))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def reconcile(carrier: Carrier, message: SmsMessage, config) -> SendResult | None:
    """Settle the Sending ``message`` with the carrier before any new attempt: record the
    carrier's record of it (Sent, or further), wait on an ambiguous match, or return
    ``None``: the carrier does not have it, send it again. Commits what it records."""
    message_id = message.id
    try:
        found = carrier_match.verdict(carrier, message, config)
    except CarrierError as error:
        # The carrier cannot be asked now: neither taken nor sent again; ask again later.
        log.warning("message %s: the carrier could not be asked: %s", message_id, error.message)
        db.session.rollback()
        again = platform_now() + timedelta(seconds=config["SMS_RECONCILE_WAIT_SECONDS"])
        outbox.enqueue(db.session.get(SmsMessage, message_id), at=again, force=True)
        return SendResult(Outcome.RETRY, CARRIER_UNREACHABLE)
    if found.found is not None:
        if record_sent(message, found.found, Source.RECONCILIATION):
            return SendResult(Outcome.RECONCILED)
        return wait(message_id, config, found.candidates)
    if found.ambiguous:
        return wait(message_id, config, found.candidates)
    if (until := in_flight_until(message, config)) is not None:
        # Not at the carrier yet, but its last attempt may still be on its way (a worker
        # frozen past its lease): sending now could make two. Asked again once it cannot be.
        log.info("message %s: last attempt may be in flight; asking again at %s", message_id, until)
        db.session.rollback()
        outbox.enqueue(db.session.get(SmsMessage, message_id), at=until, force=True)
        return SendResult(Outcome.RETRY, ATTEMPT_IN_FLIGHT)
    return None


def in_flight_until(message: SmsMessage, config):
    """Return until when ``message``'s last attempt may still reach the carrier (its start
    plus ``SMS_SEND_LEASE_SECONDS``, the longest a carrier call may last, on the platform's
    clock), or ``None`` when it cannot any more: that time is past, or the attempt was
    answered (a transient error noted ``retry`` in its history)."""
    started = message.attempt_started_at
    if started is None:
        return None
    until = started + timedelta(seconds=config["SMS_SEND_LEASE_SECONDS"])
    if platform_now() >= until:
        return None
    # The latest line about an attempt: its start (sender, attempt) or its answer (retry).
    latest = db.session.scalars(
        select(SmsStatusChange.detail)
        .where(SmsStatusChange.message_id == message.id)
        .order_by(SmsStatusChange.id.desc())
        .limit(10)
    )
    for detail in latest:
        code = uncoded(detail)[0]
        if code == Step.RETRY:
            return None  # answered: nothing of it is on its way
        if code in (Step.SENDER, Step.ATTEMPT):
            break
    return until


def wait(message_id: int, config, candidates: int = 0) -> SendResult:
    """Hold ``message_id`` in Sending, neither taken nor sent again, and examine it again in
    ``SMS_RECONCILE_WAIT_SECONDS`` (a fifth more at most, so two look-alikes drift apart);
    note the wait in its history once, and flag it to the operator once it has waited
    ``SMS_RECONCILE_MAX_WAIT_MINUTES``. Commits."""
    message = locked(message_id)
    if message is None or message.status != Status.SENDING or message.provider_sid:
        # Settled meanwhile: a delivery report naming it (its callback URL carries our id)
        # gave it its SID, or it was deleted.
        db.session.commit()
        outbox.forget_job(message_id)
        return SendResult(Outcome.NOTHING_TO_DO)
    now = utcnow()
    if message.reconcile_wait_since is None:
        message.reconcile_wait_since = now
        detail = coded(Step.RECONCILE_WAIT, candidates)
        lifecycle.note(message, Status.SENDING, Source.RECONCILIATION, detail)
    elif message.reconcile_flagged_at is None and now - message.reconcile_wait_since >= timedelta(
        minutes=config["SMS_RECONCILE_MAX_WAIT_MINUTES"]
    ):
        message.reconcile_flagged_at = now
        lifecycle.note(message, Status.SENDING, Source.RECONCILIATION, Step.RECONCILE_FLAGGED)
        log.warning("message %s: its carrier record is still ambiguous: flagged", message_id)
    db.session.commit()
    pause = config["SMS_RECONCILE_WAIT_SECONDS"] * (1 + random.uniform(0, 0.2))
    outbox.enqueue(message, at=now + timedelta(seconds=pause), force=True)
    return SendResult(Outcome.RETRY, AMBIGUOUS)


def record_receipt(message_id: int, kind: str, receipt: CarrierMessage, source: str) -> bool:
    """Record the carrier's receipt of the send job's message ``message_id`` (of ``kind``),
    as ``record_sent`` does; commit. Returns ``False`` as ``record_sent`` does.

    The usual receipt (a SID, a status that means "the carrier has it", a message still in
    Sending, no disclaimer to keep in the consent ledger) is one compare-and-set statement
    with its history line (``report_moves.hand_over``: no locked read of the row, no unit
    of work; issue 14, point 7); any other takes ``record_sent``."""
    if receipt.sid and kind != disclaimer.KIND and local_status(receipt.status) in _USUAL:
        detail = coded(Step.CARRIER_ACCEPTED, receipt.sid)
        try:
            kept = report_moves.hand_over(message_id, receipt.sid, utcnow(), source, detail)
        except IntegrityError:
            db.session.rollback()
            log.warning("message %s: carrier SID %s is another message's", message_id, receipt.sid)
            return False
        if kept is not None:
            alone.commit()
            if kept != receipt.sid:
                log.error(
                    "message %s: carrier has it twice, %s and %s", message_id, kept, receipt.sid
                )
            outbox.forget_job(message_id)
            return True
        db.session.rollback()  # not in Sending any more: the longer way reads where it is
    return record_sent(locked(message_id), receipt, source)


# The carrier's answers to a send that leave the message Sent (none: it has it, said nothing).
_USUAL = (Status.SENT, None)


def record_sent(message: SmsMessage, receipt: CarrierMessage, source: str) -> bool:
    """Record the carrier's receipt: Sent with its SID (or further, if it says so); commit.

    Returns ``False``, recording nothing (rolled back), when another message claims that SID
    already (``provider_sid`` is unique: a SID is claimed by at most one message); the
    caller treats the message as ambiguous (``wait``), never as sent nor to send again."""
    message_id = message.id
    if message.provider_sid and receipt.sid and receipt.sid != message.provider_sid:
        # A second record of one message at the carrier: never silent (issue 15).
        log.error(
            "message %s: carrier has it twice, %s and %s",
            message_id,
            message.provider_sid,
            receipt.sid,
        )
    try:
        message.provider_sid = message.provider_sid or receipt.sid
        message.reconcile_wait_since = message.reconcile_flagged_at = None
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
    except IntegrityError:
        # Another message has that SID: the unique constraint refuses it, also when two
        # workers record it at the same moment (no read beforehand: a statement fewer per send).
        db.session.rollback()
        log.warning("message %s: carrier SID %s is another message's", message_id, receipt.sid)
        return False
    outbox.forget_job(message_id)
    return True


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
        outbox.enqueue(message, at=platform_now() + timedelta(seconds=delay), force=True)
        return SendResult(Outcome.RETRY)
    log.info("message %s: the carrier refused it: %s", message_id, error.message)
    code = str(error.code) if error.code else FailureCode.CARRIER_ERROR
    moved = lifecycle.fail(message, code, None, Source.MODULE)
    if moved and opts_out(error.code):
        opt_out.opt_out(message.phone, Source.PROVIDER_ERROR, message.company_id, str(error.code))
    db.session.commit()
    outbox.forget_job(message_id)
    return SendResult(Outcome.FAILED, message.failure_code)
