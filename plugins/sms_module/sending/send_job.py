"""The send job: one message, from its queue to the carrier, safe against crashes.

``send_leased`` runs the message through named steps, each of which may end the job with an
``Outcome``: load it, ask the carrier about an interrupted send, cancel it if it is no
longer true (its appointment changed, its useful time passed), wait until it is due, hold
a promotional one through the night, ask the rules whether it may still go, send the
disclaimer first, take its sender number and a slot of that number's rate, commit Sending,
call the carrier, record its answer. A Redis lease marks the worker in the call; it expires
on its own when that worker dies. After its own message, the job helps with its queue's
backlog (``backlog``).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from host.api import db, get_redis, platform_now, utcnow
from plugins.sms_module.carriers import carrier_for
from plugins.sms_module.carriers.base import Carrier, CarrierError
from plugins.sms_module.models import (
    Kind,
    SenderNumber,
    SmsMessage,
    Source,
    Status,
    lifecycle,
)
from plugins.sms_module.models.codes import Step, coded
from plugins.sms_module.models.statuses import TERMINAL
from plugins.sms_module.sending import backlog, checks, outbox, pools, reconciliation
from plugins.sms_module.sending.backlog import Booking, NumberBusy
from plugins.sms_module.sending.lease import Lease
from plugins.sms_module.sending.outcomes import HELPS_WITH_BACKLOG, Outcome, SendResult
from plugins.sms_module.sending.rate import Reservation, SenderRate
from plugins.sms_module.sending.send_clock import SendClock

log = logging.getLogger(__name__)

# How long a worker that already committed Sending may wait for a new slot when late.
LATE_MAX_WAIT = 5.0
LATE_RETRIES = 3
# A number with no enabled sender is tried again after this long (seconds).
NO_SENDER_RETRY_SECONDS = 60
# How fresh a number's "last sent" (operations page, metrics) is kept: at most one UPDATE of
# the number a second, not one per message (issue 14, point 7).
LAST_SENT_RESOLUTION = timedelta(seconds=1)
# This process's Twilio client (see ``_carrier``), with what it was made from.
_kept: dict[tuple, Carrier] = {}


def send_message(message_id: int) -> str:
    """Send message ``message_id`` if it still has to go, then help with the backlog of its
    queue for a moment; return what happened to ``message_id`` (an ``Outcome``, with the
    code of a refusal or failure: "refused: opted_out")."""
    config = current_app.config
    result = send_leased(message_id, config)
    if result.outcome in HELPS_WITH_BACKLOG and config["SMS_BATCH_SECONDS"] > 0:
        send_backlog(message_id, config)
    return str(result)


def send_backlog(message_id: int, config) -> int:
    """Send due messages of ``message_id``'s queue for ``SMS_BATCH_SECONDS``; return how many."""
    return backlog.run(message_id, config, send_leased)


def send_leased(
    message_id: int,
    config,
    in_backlog: bool = False,
    booking: Booking | None = None,
    lease: Lease | None = None,
) -> SendResult:
    """Send ``message_id`` under its Redis lease (``lease.Lease``: renewed while this worker
    lives, lapsing ``SMS_LEASE_TTL_SECONDS`` after its death); another worker holding the
    lease is on it already. A backlog run passes the ``lease`` it took after booking the slot.

    A message sent keeps its lease key until the TTL ends (``Lease.release(linger=True)``):
    another backlog run that read it as due a moment ago passes it over with one round
    trip to Redis, not a locked read of the row (issue 14, point 7)."""
    held = lease or Lease(
        get_redis(), outbox.lease_key(message_id), config["SMS_LEASE_TTL_SECONDS"]
    )
    if not held.held and not held.acquire():
        return SendResult(Outcome.NOTHING_TO_DO if held.done() else Outcome.HELD)
    result = None
    try:
        result = _send(message_id, config, in_backlog, booking, held)
        return result
    finally:
        held.release(linger=result is not None and result.outcome == Outcome.SENT)


def _send(
    message_id: int, config, in_backlog: bool, booking: Booking | None, held: Lease
) -> SendResult:
    message = reconciliation.locked(message_id)
    clock = SendClock()
    if message is None or message.status in TERMINAL or message.status == Status.SENT:
        db.session.commit()
        outbox.forget_job(message_id)
        return SendResult(Outcome.NOTHING_TO_DO)
    carrier = _carrier(config)
    if message.status == Status.SENDING:
        # Interrupted in the carrier call, or retried: ask the carrier before sending again.
        if reconciled := reconciliation.reconcile(carrier, message, config):
            return reconciled
    else:
        now = clock.now()  # the platform's clock, read once for the send
        stop = (
            checks.no_longer_true(message, now)
            or checks.not_due(message, now)
            or checks.held_for_the_night(message, now)
        )
        if stop:
            return stop
    stop = checks.refused_now(message) or checks.disclaimer_first(message, in_backlog)
    if stop:
        return stop
    try:
        sender = _sender(message)
    except pools.PoolError:
        return _no_sender_number(message_id)
    limiter = SenderRate(get_redis(), config["SMS_RATE_MARGIN_SECONDS"])
    slot = (sender.number, max(message.segments, 1), float(sender.rate))
    reservation, go_at = _reserve(limiter, slot, booking, in_backlog, config)
    if reservation.send_at is None:
        db.session.commit()
        if in_backlog:
            raise NumberBusy(sender.number, reservation.retry_after)  # its job stays queued
        # The number is busy for a while: free this worker, come back when it has room.
        outbox.enqueue(
            message, at=platform_now() + timedelta(seconds=reservation.retry_after), force=True
        )
        return SendResult(Outcome.WAITING_FOR_NUMBER)
    kind = message.kind
    sending = _mark_sending(message, sender, clock)
    if sending is None:  # canceled by the shop a moment ago: the slot goes back
        limiter.release(sender.number, reservation)
        outbox.forget_job(message_id)
        return SendResult(Outcome.NOTHING_TO_DO)
    to, from_, body = sending
    if booking is not None and booking.used:
        booking.ready_at = time.monotonic()
    reservation = _keep_slot(limiter, slot, reservation, go_at)
    if not held.still_ours():
        # Frozen past the lease (a stopped process, swap): another worker took the message
        # up meanwhile and may have sent it already. Sending now could send it twice.
        log.warning("message %s: lease lost before the carrier call; not sent", message_id)
        limiter.release(sender.number, reservation)
        return SendResult(Outcome.HELD)
    try:
        receipt = carrier.send(
            to=to, from_=from_, body=body, status_callback=status_callback_url(config, message_id)
        )
    except CarrierError as error:
        return reconciliation.carrier_refused(message_id, error, config)
    limiter.settle(from_, reservation)  # the carrier has it: its window starts from now
    if not reconciliation.record_receipt(message_id, kind, receipt, Source.MODULE):
        # Its SID is claimed by another message: neither sent again nor taken; it waits.
        return reconciliation.wait(message_id, config, 1)
    return SendResult(Outcome.SENT)


def _carrier(config) -> Carrier:
    """Return the carrier of ``config`` (``carrier_for``). Twilio's client is made once per
    process and kept, so its HTTPS connection is kept alive from one send to the next: a new
    client per message cost a TLS handshake each (about 2.5 ms of CPU, and the round trips).
    A forked work horse makes its own (a connection is never shared across a fork)."""
    if str(config.get("SMS_PROVIDER") or "").strip().lower() != "twilio":
        return carrier_for(config)  # the simulator: nothing to keep
    names = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE_URL")
    key = (os.getpid(), carrier_for, *(config.get(name) for name in names))
    if key not in _kept:
        _kept.clear()
        _kept[key] = carrier_for(config)
    return _kept[key]


def _sender(message: SmsMessage) -> SenderNumber:
    """Return the number the message goes from: the phone's sticky number of the pool, or,
    for the answer to a keyword, the number the phone wrote to."""
    if message.kind == Kind.KEYWORD_ANSWER and message.sender_number:
        pinned = db.session.scalar(
            select(SenderNumber).where(SenderNumber.number == message.sender_number)
        )
        if pinned is not None:
            return pinned
    if message.company_id is None:
        raise pools.PoolError("a message of no shop goes only from the number it answers")
    return pools.sender_for(message.company_id, message.phone, message.queue)


def _no_sender_number(message_id: int) -> SendResult:
    """Every number of the pool is disabled: wait for the operator to enable one."""
    db.session.rollback()
    log.warning("no enabled number for message %s; trying again in a minute", message_id)
    again = platform_now() + timedelta(seconds=NO_SENDER_RETRY_SECONDS)
    outbox.enqueue(db.session.get(SmsMessage, message_id), at=again, force=True)
    return SendResult(Outcome.NO_SENDER_NUMBER)


def _reserve(
    limiter: SenderRate, slot: tuple, booking: Booking | None, in_backlog: bool, config
) -> tuple[Reservation, float]:
    """Return the message's slot of its number's rate and when to go (monotonic): the one a
    backlog run booked for it, or a new one."""
    if booking is not None and (booking.number, booking.segments) == slot[:2]:
        booking.used = True
        return booking.reservation, booking.go_at
    # None booked, or for another number (the phone moved): the caller gives that one back.
    wait = backlog.MAX_WAIT if in_backlog else config["SMS_RATE_MAX_WAIT"]
    reservation = limiter.reserve(*slot, wait)
    return reservation, time.monotonic() + reservation.wait


def _mark_sending(
    message: SmsMessage, sender: SenderNumber, clock: SendClock | None = None
) -> tuple[str, str, str] | None:
    """Commit Sending before the carrier is called; return (to, from, body), or ``None`` when
    another process moved the message since it was read (a shop's cancel): the move is a
    compare-and-set (``lifecycle.claim``, one UPDATE with the attempt's columns)."""
    sent = (message.phone, sender.number, message.body)
    attempt = {
        "sender_number": sender.number,
        "attempts": message.attempts + 1,  # every delivery attempt is charged (§8)
        # The carrier's record of this attempt is looked for near this moment (issue 15),
        # judged on the platform's clock (in_flight_until).
        "attempt_started_at": (clock or SendClock()).later(),
        "reconcile_wait_since": None,
        "reconcile_flagged_at": None,
    }
    if message.status != Status.SENDING:
        steps = [(Status.SENDING, coded(Step.SENDER, sender.number))]
        if message.status == Status.SCHEDULED:
            steps.insert(0, (Status.QUEUED, None))
        if not lifecycle.claim(message, steps, Source.MODULE, **attempt):
            db.session.rollback()
            return None
    else:  # a new attempt of an interrupted send, after the carrier was asked
        for key, value in attempt.items():
            setattr(message, key, value)
        detail = coded(Step.ATTEMPT, message.attempts)
        lifecycle.note(message, Status.SENDING, Source.MODULE, detail)
    now = utcnow()
    if sender.last_sent_at is None or now - sender.last_sent_at >= LAST_SENT_RESOLUTION:
        sender.last_sent_at = now  # to the second: not one UPDATE of the number per send
    db.session.commit()  # Sending is on record before the carrier is called
    return sent


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


def status_callback_url(config, message_id: int) -> str:
    """Return the URL the carrier reports statuses to; it carries our message id."""
    base = config["SMS_PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/sms/twilio/status?message_id={message_id}"
