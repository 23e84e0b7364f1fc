"""The send job: one message, from its queue to the carrier, safe against crashes.

Sending is committed before the carrier is called and the carrier's SID after, so a
message found in Sending with no worker on it was interrupted mid-call: the carrier is
asked what it has before anything is sent again. A Redis lease marks the worker in the
call; it expires on its own when that worker dies.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from host.extensions import db
from host.models import option_enabled, utcnow
from host.redis_connection import get_redis
from plugins.sms_module import campaigns, disclaimer, inbound, lifecycle, opt_out, pipeline, pools
from plugins.sms_module.carrier import CarrierError, CarrierMessage
from plugins.sms_module.consent import has_consent
from plugins.sms_module.gateway import carrier_for, local_status
from plugins.sms_module.models import Conversation, Queue, SenderNumber, SmsMessage
from plugins.sms_module.rate import Reservation, SenderRate
from plugins.sms_module.services import OPTION_NUMBER
from plugins.sms_module.statuses import TERMINAL, Status

log = logging.getLogger(__name__)

UNSUBSCRIBED = 21610
# How long a worker that already committed Sending may wait for a new slot when late.
LATE_MAX_WAIT = 5.0
LATE_RETRIES = 3
# A job may start this much before the message's send time (clocks of several machines).
EARLY_TOLERANCE = timedelta(milliseconds=100)
# A backlog run books a slot at most this far ahead (its checks run in the meantime).
BACKLOG_MAX_WAIT = 0.03
# How many due messages a backlog run looks at a time.
BACKLOG_PAGE = 50
# How long a backlog run waits when other workers hold every message it could send.
BACKLOG_IDLE_SECONDS = 0.02


# After these, the worker has nothing else to do for its message: it helps with the queue.
HELPS_WITH_BACKLOG = {
    "sent",
    "reconciled",
    "nothing to do",
    "another worker holds it",
    "waiting for the sender number",
    "waiting for the morning",
}


def send_message(message_id: int) -> str:
    """Send message ``message_id`` if it still has to go, then help with the backlog of its
    queue for a moment; return what happened to ``message_id``."""
    config = current_app.config
    outcome = _send_leased(message_id, config)
    if outcome in HELPS_WITH_BACKLOG and config["SMS_BATCH_SECONDS"] > 0:
        _send_backlog(message_id, config)
    return outcome


@dataclass
class Booking:
    """A slot a backlog run reserved for a message before checking it, so the checks run
    while the slot comes rather than pushing the number's schedule back by their time."""

    number: str
    segments: int
    reservation: Reservation
    go_at: float  # monotonic
    booked_at: float  # monotonic
    used: bool = False
    ready_at: float | None = None  # when the checks were done and the send waited for it


class NumberBusy(Exception):
    """In a backlog run: the message's ``number`` has no room for ``retry_after`` seconds."""

    def __init__(self, number: str, retry_after: float) -> None:
        super().__init__(number, retry_after)
        self.number = number
        self.retry_after = retry_after


def _send_leased(
    message_id: int, config, backlog: bool = False, booking: Booking | None = None
) -> str:
    redis = get_redis()
    lease = pipeline.lease_key(message_id)
    if not redis.set(lease, 1, nx=True, ex=config["SMS_SEND_LEASE_SECONDS"]):
        return "another worker holds it"
    try:
        return _send(message_id, config, backlog, booking)
    finally:
        redis.delete(lease)


def _send_backlog(message_id: int, config) -> int:
    """Send other due messages of the same queue in this process, for at most
    ``SMS_BATCH_SECONDS``: a busy queue then pays RQ's fork once per batch, not once per
    message.

    A message whose sticky number has no room for its segments is passed over for the next
    one that fits, on that number or another, so a window left with 1 segment of room takes
    a 1-segment message rather than idling; a phone's own messages keep their order. The
    slot is booked before the message's checks, up to ``BACKLOG_MAX_WAIT`` ahead, so the
    checks run while it comes instead of pushing the number's schedule back by their time.
    When nothing fits anywhere the run sleeps until just before the first number has room.
    A message sent here takes its job off the RQ queue, so no worker forks for it."""
    queue = db.session.scalar(select(SmsMessage.queue).where(SmsMessage.id == message_id))
    deadline = time.monotonic() + config["SMS_BATCH_SECONDS"]
    limiter = SenderRate(get_redis(), config["SMS_RATE_MARGIN_SECONDS"])
    # (number, segments) → when the number has room for that many (monotonic).
    full_until: dict[tuple[str, int], float] = {}

    def fits(number: str | None, segments: int) -> bool:
        soon = time.monotonic() + BACKLOG_MAX_WAIT
        return number is None or all(
            full_until.get((number, size), 0.0) <= soon for size in range(1, segments + 1)
        )

    lead = 0.0  # how long a message's checks take here, so its slot comes after them

    def book(number: str | None, segments: int, rate) -> Booking | None | bool:
        """Reserve the message's slot if it is near; False if its number has no room."""
        if number is None:
            return None  # a new conversation: the send picks the number and reserves
        reservation = limiter.reserve(number, segments, float(rate), BACKLOG_MAX_WAIT, lead)
        now = time.monotonic()
        if not reservation.granted:
            full_until[(number, segments)] = now + reservation.retry_after
            return False
        return Booking(number, segments, reservation, now + reservation.wait, now)

    sent = 0
    while time.monotonic() < deadline:
        now = time.monotonic()
        soon = now + BACKLOG_MAX_WAIT
        full = [n for (n, size), until in full_until.items() if size == 1 and until > soon]
        due = _due_backlog(queue, full)
        progress = held = False
        passed_over: set[str] = set()  # phones with a message left behind in this pass
        for other, number, rate, phone, segments in due:
            if time.monotonic() >= deadline:
                break
            segments = max(segments, 1)
            if phone in passed_over or not fits(number, segments):
                passed_over.add(phone)
                continue
            booking = book(number, segments, rate)
            if booking is False:
                passed_over.add(phone)
                continue
            job = pipeline.live_job(other)  # before sending: a sent message forgets its job
            try:
                outcome = _send_leased(other, config, backlog=True, booking=booking)
            except NumberBusy as busy:
                full_until[(busy.number, segments)] = time.monotonic() + busy.retry_after
                passed_over.add(phone)
                continue
            finally:
                if booking and not booking.used:
                    limiter.release(booking.number, booking.reservation)
            if booking and booking.ready_at is not None:
                took = min(booking.ready_at - booking.booked_at, BACKLOG_MAX_WAIT)
                lead = 0.8 * lead + 0.2 * took
            if outcome == "sent":
                sent += 1
                progress = True
                if job is not None and job.get_status() in ("queued", "scheduled"):
                    job.delete()  # sent here: no worker forks for it any more
            elif outcome == "another worker holds it":
                held = True
            else:
                passed_over.add(phone)
        if progress:
            continue
        soon = time.monotonic() + BACKLOG_MAX_WAIT
        later = [until for until in full_until.values() if until > soon]
        if later and min(later) < deadline:
            # Nothing fits anywhere: wake in time to book the first room as it opens.
            time.sleep(max(0.0, min(later) - BACKLOG_MAX_WAIT - time.monotonic()))
        elif held:
            time.sleep(BACKLOG_IDLE_SECONDS)  # other workers are on the rest: see what is left
        else:
            break  # nothing can go: none due, or only messages waiting for a disclaimer
    return sent


def _due_backlog(queue: Queue, full: list[str]) -> list[tuple]:
    """Return due messages of ``queue``, oldest first, as (id, sticky number or None, its
    rate, phone, segments), leaving out those of the ``full`` numbers."""
    query = (
        select(
            SmsMessage.id,
            SenderNumber.number,
            SenderNumber.rate,
            SmsMessage.phone,
            SmsMessage.segments,
        )
        .outerjoin(
            Conversation,
            (Conversation.company_id == SmsMessage.company_id)
            & (Conversation.phone == SmsMessage.phone)
            & (Conversation.queue == SmsMessage.queue),
        )
        .outerjoin(SenderNumber, SenderNumber.id == Conversation.sender_number_id)
        .where(
            # Due Scheduled ones too: a job RQ's scheduler moved to the queue does not mark
            # its message Queued; the send does. Due by this clock: never early.
            SmsMessage.status.in_((Status.QUEUED, Status.SCHEDULED)),
            SmsMessage.queue == queue,
            SmsMessage.send_at <= utcnow(),
        )
        .order_by(SmsMessage.send_at, SmsMessage.id)
        .limit(BACKLOG_PAGE)
    )
    if full:
        query = query.where(SenderNumber.number.is_(None) | SenderNumber.number.not_in(full))
    rows = [tuple(row) for row in db.session.execute(query)]
    db.session.commit()
    return rows


def _send(message_id: int, config, backlog: bool = False, booking: Booking | None = None) -> str:
    message = _locked(message_id)
    if message is None or message.status in TERMINAL or message.status == Status.SENT:
        db.session.commit()
        pipeline.forget_job(message_id)
        return "nothing to do"
    carrier = carrier_for(config)
    if message.status == Status.SENDING:
        # Interrupted in the carrier call: ask the carrier before sending again.
        found = _already_sent(carrier, message)
        if found is not None:
            _record_sent(message, found, "reconciliation")
            return "reconciled"
    elif message.send_at and message.send_at > utcnow() + EARLY_TOLERANCE:
        db.session.commit()
        pipeline.enqueue(message, force=True)
        return "not due yet"
    if message.status != Status.SENDING:
        morning = _after_quiet_hours(message)
        if morning is not None:
            # A campaign that outlasts the evening waits for the morning, shop time.
            message.send_at = morning
            lifecycle.note(message, message.status, "module", "quiet hours: goes in the morning")
            db.session.commit()
            pipeline.enqueue(message, force=True)
            return "waiting for the morning"
    refusal = _still_allowed(message)
    if refusal:
        code, reason = refusal
        message.failure_code, message.failure_reason = code, reason
        lifecycle.move(message, Status.FAILED, "module", f"refused before sending: {code}")
        db.session.commit()
        pipeline.forget_job(message_id)
        return f"refused: {code}"

    if message.kind != disclaimer.KIND and message.customer_id is not None:
        waiting = _disclaimer_first(message, backlog)
        if waiting:
            return waiting
    try:
        sender = _sender(message)
    except pools.PoolError:
        # Every number of the pool is disabled: wait for the operator to enable one.
        db.session.rollback()
        log.warning("no enabled number for message %s; trying again in a minute", message_id)
        pipeline.enqueue(
            db.session.get(SmsMessage, message_id), at=utcnow() + timedelta(seconds=60), force=True
        )
        return "no sender number"
    limiter = SenderRate(get_redis(), config["SMS_RATE_MARGIN_SECONDS"])
    slot = (sender.number, max(message.segments, 1), float(sender.rate))
    if booking is not None and (booking.number, booking.segments) == slot[:2]:
        booking.used = True
        reservation, go_at = booking.reservation, booking.go_at
    else:  # none booked, or for another number (the phone moved): the caller gives it back
        reservation = limiter.reserve(
            *slot, BACKLOG_MAX_WAIT if backlog else config["SMS_RATE_MAX_WAIT"]
        )
        go_at = time.monotonic() + reservation.wait
    if reservation.send_at is None and backlog:
        db.session.commit()
        # Left as it is, its job still queued.
        raise NumberBusy(sender.number, reservation.retry_after)
    if reservation.send_at is None:
        # The number is busy for a while: free this worker, come back when it has room.
        db.session.commit()
        pipeline.enqueue(
            message, at=utcnow() + timedelta(seconds=reservation.retry_after), force=True
        )
        return "waiting for the sender number"

    message.sender_number = sender.number
    message.attempts += 1  # every delivery attempt is charged
    if message.status != Status.SENDING:
        if message.status == Status.SCHEDULED:
            lifecycle.move(message, Status.QUEUED, "module")
        lifecycle.move(message, Status.SENDING, "module", f"from {sender.number}")
    else:
        lifecycle.note(message, Status.SENDING, "module", f"attempt {message.attempts}")
    sender.last_sent_at = utcnow()
    to, from_, body = message.phone, sender.number, message.body
    db.session.commit()  # Sending is on record before the carrier is called

    if booking is not None and booking.used:
        booking.ready_at = time.monotonic()
    reservation = _keep_slot(limiter, slot, reservation, go_at)
    try:
        receipt = carrier.send(
            to=to,
            from_=from_,
            body=body,
            status_callback=status_callback_url(config, message_id),
        )
    except CarrierError as error:
        return _carrier_refused(message_id, error, config)
    limiter.settle(from_, reservation)  # the carrier has it: its window starts from now
    message = _locked(message_id)
    _record_sent(message, receipt, "module")
    return "sent"


def _after_quiet_hours(message: SmsMessage):
    """Return when a promotional message may go if now is the shop's night, else None."""
    if message.queue != Queue.PROMOTIONAL or message.company is None:
        return None
    now = utcnow()
    morning = campaigns.out_of_quiet_hours(now, message.company)
    return morning if morning > now else None


def _sender(message: SmsMessage) -> SenderNumber:
    """Return the number the message goes from: the phone's sticky number of the pool, or,
    for the answer to a keyword, the number the phone wrote to."""
    if message.kind == inbound.KEYWORD_ANSWER and message.sender_number:
        pinned = db.session.scalar(
            select(SenderNumber).where(SenderNumber.number == message.sender_number)
        )
        if pinned is not None:
            return pinned
    if message.company_id is None:
        raise pools.PoolError("a message of no shop goes only from the number it answers")
    return pools.sender_for(message.company_id, message.phone, message.queue)


def _keep_slot(
    limiter: SenderRate, slot: tuple, reservation: Reservation, go_at: float
) -> Reservation:
    """Sleep until the reserved slot, and go only while it holds; return the slot used.

    A send later than its slot (a slow commit, a busy CPU) could crowd the next window.
    The margin covers the lateness: half of it for getting here, half for the way to the
    carrier. A sender later than that gives its slot back, takes a new one and waits for it.
    """
    for _ in range(LATE_RETRIES):
        time.sleep(max(0.0, go_at - time.monotonic()))
        if reservation.granted and time.monotonic() - go_at <= limiter.margin / 2:
            return reservation
        limiter.release(slot[0], reservation)
        reservation = limiter.reserve(*slot, LATE_MAX_WAIT)
        wait = reservation.wait if reservation.granted else reservation.retry_after
        go_at = time.monotonic() + wait
    # Still late after several slots: the machine is overloaded; send rather than hold on.
    time.sleep(max(0.0, go_at - time.monotonic()))
    return reservation


def _disclaimer_first(message: SmsMessage, backlog: bool = False) -> str | None:
    """Hold the message back until the phone's disclaimer reached the carrier."""
    found = disclaimer.state(message.company_id, message.phone)
    if found == "sent":
        return None
    if found is not None and backlog and pipeline.live_job(message.id) is not None:
        db.session.commit()
        return "waiting for the disclaimer"  # a backlog run passes over it; its job stays
    if found is None:  # none yet (a new phone), or the last one failed: write one
        first = disclaimer.message_for(message.company, message.customer, message.phone)
        lifecycle.start(first, Status.ACCEPTED, "module", "first SMS to this phone")
        lifecycle.move(first, Status.SCHEDULED, "module")
        db.session.add(first)
        db.session.commit()
        pipeline.enqueue(first)
    else:
        db.session.commit()
    pipeline.enqueue(
        db.session.get(SmsMessage, message.id), at=utcnow() + timedelta(seconds=1), force=True
    )
    return "waiting for the disclaimer"


def status_callback_url(config, message_id: int) -> str:
    """Return the URL the carrier reports statuses to; it carries our message id."""
    base = config["SMS_PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/sms/twilio/status?message_id={message_id}"


def _locked(message_id: int) -> SmsMessage | None:
    return db.session.scalar(
        select(SmsMessage).where(SmsMessage.id == message_id).with_for_update()
    )


def _still_allowed(message: SmsMessage) -> tuple[str, str] | None:
    """Check again, just before the carrier, what may have changed since acceptance.

    The answer to STOP, START or HELP goes in any case: it is what the phone asked for."""
    if message.kind == inbound.KEYWORD_ANSWER:
        return None
    if message.company_id is not None and not option_enabled(message.company_id, OPTION_NUMBER):
        return "module_off", "The new SMS module was switched off before the message left."
    if opt_out.is_opted_out(message.phone):
        return "opted_out", "The phone opted out (STOP) before the message left."
    if message.customer_id is not None and not has_consent(message.customer_id):
        return "no_consent", "The customer withdrew consent before the message left."
    return None


def _already_sent(carrier, message: SmsMessage) -> CarrierMessage | None:
    if message.provider_sid:
        return carrier.fetch(message.provider_sid)
    if not message.sender_number:
        return None
    since = message.updated_at - timedelta(minutes=5)
    found = carrier.find(to=message.phone, from_=message.sender_number, sent_after=since)
    for candidate in found:
        if candidate.sid and not db.session.scalar(
            select(SmsMessage.id).where(SmsMessage.provider_sid == candidate.sid)
        ):
            return candidate
    return None


def _record_sent(message: SmsMessage, receipt: CarrierMessage, source: str) -> None:
    message.provider_sid = message.provider_sid or receipt.sid
    lifecycle.move(message, Status.SENT, source, receipt.sid)
    disclaimer.record_sent(message)
    reported = local_status(receipt.status)
    if reported is not None and reported != Status.SENT:
        lifecycle.move(message, reported, source, receipt.status)
    db.session.commit()
    pipeline.forget_job(message.id)


def _carrier_refused(message_id: int, error: CarrierError, config) -> str:
    message = _locked(message_id)
    if error.transient and message.attempts < config["SMS_MAX_ATTEMPTS"]:
        delay = config["SMS_RETRY_BASE_SECONDS"] * 2 ** (message.attempts - 1)
        lifecycle.note(message, Status.SENDING, "module", f"retry in {delay:g}s: {error.message}")
        db.session.commit()
        # Still Sending: the retry asks the carrier first, in case it did take the message.
        pipeline.enqueue(message, at=utcnow() + timedelta(seconds=delay), force=True)
        return "retry"
    message.failure_code = str(error.code) if error.code else "carrier_error"
    message.failure_reason = error.message
    lifecycle.move(message, Status.FAILED, "module", message.failure_code)
    if error.code == UNSUBSCRIBED:
        opt_out.opt_out(message.phone, "provider_error", message.company_id, str(error.code))
    db.session.commit()
    pipeline.forget_job(message_id)
    return f"failed: {message.failure_code}"


def sweep() -> None:
    """Periodic task: give a job to every message that lost its own."""
    count = pipeline.sweep()
    if count:
        log.info("sweeper re-enqueued %d message(s)", count)
    forwards = inbound.sweep_forwards(current_app.config["SMS_SWEEP_GRACE_SECONDS"])
    if forwards:
        log.info("sweeper re-enqueued the forward of %d repl(ies)", forwards)
    campaigns.sweep_unprepared(current_app.config["SMS_SWEEP_GRACE_SECONDS"])
