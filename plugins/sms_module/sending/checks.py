"""What the send job checks before it takes a sender number, each step able to end the job
with its ``Outcome``: the message is still true (``guards.stale``), due, not held through the
night (§7), still allowed by the rules (``rules.may_go_now``), and its phone's first-SMS
disclaimer reached the carrier first (§5)."""

from __future__ import annotations

from datetime import datetime, timedelta

from host.api import db, platform_now
from plugins.sms_module.compliance import disclaimer, guards, quiet_hours, rules
from plugins.sms_module.models import FailureCode, SmsMessage, Source, lifecycle
from plugins.sms_module.models.codes import Reason, Step, coded
from plugins.sms_module.sending import outbox
from plugins.sms_module.sending.outcomes import Outcome, SendResult

# A message is due once the platform's clock (Redis's, one for all) reaches its send time:
# not a moment before (issue 15: a fast clock sent up to 74 ms early with a tolerance).
EARLY_TOLERANCE = timedelta(0)
# How long a message waits for its phone's disclaimer to reach the carrier (seconds).
DISCLAIMER_WAIT_SECONDS = 1


def no_longer_true(message: SmsMessage, now: datetime) -> SendResult | None:
    """Cancel a message its event made untrue or that waited past its useful time
    (``guards.stale``): a reminder of a completed job, one held past the appointment."""
    reason = guards.stale(message, now)
    if reason is None:
        return None
    withdrawn = lifecycle.withdraw(message, Source.MODULE, reason)
    db.session.commit()
    outbox.forget_job(message.id)
    return SendResult(Outcome.NO_LONGER_TRUE if withdrawn else Outcome.NOTHING_TO_DO)


def not_due(message: SmsMessage, now: datetime) -> SendResult | None:
    """A job that came early goes back to wait for the send time, judged by ``now`` on the
    platform's clock (``platform_now``: Redis's ``TIME``), not this worker's: a fast clock
    never sends early (issue 15)."""
    if message.send_at and message.send_at > now + EARLY_TOLERANCE:
        db.session.commit()
        outbox.enqueue(message, force=True)
        return SendResult(Outcome.NOT_DUE)
    return None


def held_for_the_night(message: SmsMessage, now: datetime) -> SendResult | None:
    """A campaign that outlasts the evening waits for the morning, shop time (§7)."""
    if not quiet_hours.held_at_night(message.queue):
        return None  # the shop's row is not read for a message no night holds
    morning = quiet_hours.held_until_morning(message.queue, message.company, now)
    if morning is None:
        return None
    message.send_at = morning
    message.fair_tag = None  # its turn is taken again when it is due (sending.fairness)
    lifecycle.note(message, message.status, Source.MODULE, Step.QUIET_HOURS)
    db.session.commit()
    outbox.enqueue(message, force=True)
    return SendResult(Outcome.WAITING_FOR_MORNING)


def refused_now(message: SmsMessage) -> SendResult | None:
    """Fail the message a rule now refuses (``rules.may_go_now``)."""
    refusal = rules.may_go_now(message)
    if refusal is None:
        return None
    detail = coded(Step.REFUSED_BEFORE_SENDING, refusal.code)
    reason = coded(refusal.code, Reason.BEFORE_SENDING)
    lifecycle.fail(message, refusal.code, reason, Source.MODULE, detail)
    db.session.commit()
    outbox.forget_job(message.id)
    return SendResult(Outcome.REFUSED, refusal.code)


def disclaimer_first(message: SmsMessage, in_backlog: bool) -> SendResult | None:
    """Hold the message back until the phone's disclaimer reached the carrier (§5).

    While one is on its way (its transient errors retried by its own job) the message waits;
    none, or the last one canceled or refused by a rule: one is written, under
    ``disclaimer.writing`` (never two on their way). The last one failed at the carrier (a
    permanent error, Undelivered, or its retries spent): the message fails too
    (``disclaimer_failed``), with no new disclaimer, never billed."""
    if not disclaimer.must_precede(message.kind, message.customer_id is not None):
        return None
    found = disclaimer.state(message.company_id, message.phone)
    if found == disclaimer.State.SENT:
        return None
    if found == disclaimer.State.FAILED:
        return disclaimer_failed(message)
    waiting = SendResult(Outcome.WAITING_FOR_DISCLAIMER)
    if found is not None and in_backlog and outbox.live_job(message.id) is not None:
        db.session.commit()
        return waiting  # a backlog run passes over it; its job stays
    first = None
    if found is None:  # none yet (a new phone), or the last one canceled: write one
        with disclaimer.writing(message.company_id, message.phone) as mine:
            # Asked again under the lease: another process may have written one meanwhile.
            if mine and disclaimer.state(message.company_id, message.phone) is None:
                first = disclaimer.schedule_first(
                    message.company, message.customer, message.phone, message.queue
                )
            db.session.commit()
    else:
        db.session.commit()
    if first is not None:
        outbox.enqueue(first)
    again = platform_now() + timedelta(seconds=DISCLAIMER_WAIT_SECONDS)
    outbox.enqueue(db.session.get(SmsMessage, message.id), at=again, force=True)
    return waiting


def disclaimer_failed(message: SmsMessage) -> SendResult:
    """Fail the message whose disclaimer failed at the carrier (§5): Failed, its reason
    ``"disclaimer_failed: <the disclaimer's failure reason>"``, no attempt charged."""
    failed = disclaimer.last_failure(message.company_id, message.phone)
    why = (failed.failure_reason or failed.failure_code) if failed is not None else None
    code = FailureCode.DISCLAIMER_FAILED
    reason = coded(code, why)
    lifecycle.fail(message, code, reason, Source.MODULE, reason)
    db.session.commit()
    outbox.forget_job(message.id)
    return SendResult(Outcome.REFUSED, code)
