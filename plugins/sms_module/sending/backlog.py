"""A send job's help with its queue: after its own message, the job goes on with the
queue's due messages for ``SMS_BATCH_SECONDS``, so a busy queue pays RQ's fork once per
batch, not once per message.

A message whose sticky number has no room for its segments is passed over for the next
one that fits, on that number or another, so a window left with 1 segment of room takes a
1-segment message rather than idling; a phone's own messages keep their order. The slot is
booked before the message's checks, up to ``MAX_WAIT`` ahead, so the checks run while it
comes instead of pushing the number's schedule back by their time. When nothing fits
anywhere the run sleeps until just before the first number has room. A message sent here
takes its job off the RQ queue, so no worker forks for it.

A run works from one reading of the due messages for ``REFRESH_SECONDS``, not one reading
per message sent. Several runs share a queue, so what is in hand may have been sent by
another since: each message's lease is taken before its send, and a message sent elsewhere
keeps its lease key for the lease's TTL (``Lease.release(linger=True)``), so the run passes
it over with one round trip to Redis instead of a locked read of its row.

Due messages go in their fair order (``fairness``): on each number the shops with waiting
messages take turns, and a shop's interactive messages pass its own bulk (issue 14).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from host.api import db, get_redis, platform_now
from plugins.sms_module.models import Conversation, Queue, SenderNumber, SmsMessage, Status
from plugins.sms_module.sending import fairness, outbox
from plugins.sms_module.sending.lease import Lease
from plugins.sms_module.sending.outcomes import Outcome, SendResult
from plugins.sms_module.sending.rate import Reservation, SenderRate

# A backlog run books a slot at most this far ahead, in seconds (its checks run meanwhile).
MAX_WAIT = 0.03
# How many due messages a backlog run looks at a time.
PAGE = 50
# How long a backlog run waits when other workers hold every message it could send (s).
IDLE_SECONDS = 0.02
# How long a backlog run works from one reading of the due messages before reading them
# again (s), unless a message was put on the queue meanwhile (``outbox.due_count_key``): a
# scheduled message that falls due waits this long at most (issue 14, point 7: one reading
# per message sent cost a query and a stamping each).
REFRESH_SECONDS = 0.2


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


# send_one(message_id, config, in_backlog=True, booking=..., lease=...) -> SendResult
SendOne = Callable[..., SendResult]


def run(message_id: int, config, send_one: SendOne) -> int:
    """Send other due messages of ``message_id``'s queue with ``send_one`` for at most
    ``SMS_BATCH_SECONDS``; return how many were sent."""
    queue = db.session.scalar(select(SmsMessage.queue).where(SmsMessage.id == message_id))
    if queue is None:
        return 0  # the message is gone: no queue to help with
    deadline = time.monotonic() + config["SMS_BATCH_SECONDS"]
    limiter = SenderRate(get_redis(), config["SMS_RATE_MARGIN_SECONDS"])
    # (number, segments) → when the number has room for that many (monotonic).
    full_until: dict[tuple[str, int], float] = {}

    def fits(number: str | None, segments: int) -> bool:
        soon = time.monotonic() + MAX_WAIT
        return number is None or all(
            full_until.get((number, size), 0.0) <= soon for size in range(1, segments + 1)
        )

    lead = 0.0  # how long a message's checks take here, so its slot comes after them

    def book(number: str | None, segments: int, rate) -> Booking | None | bool:
        """Reserve the message's slot if it is near; False if its number has no room."""
        if number is None:
            return None  # a new conversation: the send picks the number and reserves
        reservation = limiter.reserve(number, segments, float(rate), MAX_WAIT, lead)
        now = time.monotonic()
        if not reservation.granted:
            full_until[(number, segments)] = now + reservation.retry_after
            return False
        return Booking(number, segments, reservation, now + reservation.wait, now)

    sent = 0
    hand: list[tuple] = []  # due messages read and not yet dealt with, in their fair order
    read_at, counted = -REFRESH_SECONDS, None
    counter = outbox.due_count_key(queue.value)
    while time.monotonic() < deadline:
        # Read again when the reading is old, or when a message was put on the queue since.
        now_counted = get_redis().get(counter)
        fresh = not hand or time.monotonic() - read_at >= REFRESH_SECONDS or now_counted != counted
        if fresh:
            # Numbers full past the next reading are left out: their turn comes after it.
            soon = time.monotonic() + max(REFRESH_SECONDS, MAX_WAIT)
            full = [n for (n, size), until in full_until.items() if size == 1 and until > soon]
            fairness.stamp_due(queue)
            hand, read_at, counted = due_messages(queue, full), time.monotonic(), now_counted
        progress = held = False
        passed_over: set[str] = set()  # phones with a message left behind in this pass
        kept: list[tuple] = []  # what stays in hand for the next pass
        for at, row in enumerate(hand):
            other, number, rate, phone, segments = row
            if time.monotonic() >= deadline:
                kept.extend(hand[at:])
                break
            segments = max(segments, 1)
            if phone in passed_over or not fits(number, segments):
                passed_over.add(phone)
                kept.append(row)
                continue
            booking = book(number, segments, rate)
            if booking is False:
                passed_over.add(phone)
                kept.append(row)
                continue
            lease = Lease(get_redis(), outbox.lease_key(other), config["SMS_LEASE_TTL_SECONDS"])
            if not lease.acquire():
                if booking:
                    limiter.release(booking.number, booking.reservation)
                held = True  # another worker is on it, or has just sent it
                passed_over.add(phone)
                continue
            job = outbox.live_job(other)  # before sending: a sent message forgets its job
            try:
                result = send_one(other, config, in_backlog=True, booking=booking, lease=lease)
            except NumberBusy as busy:
                full_until[(busy.number, segments)] = time.monotonic() + busy.retry_after
                passed_over.add(phone)
                kept.append(row)
                continue
            finally:
                if booking and not booking.used:
                    limiter.release(booking.number, booking.reservation)
            if booking and booking.ready_at is not None:
                took = min(booking.ready_at - booking.booked_at, MAX_WAIT)
                lead = 0.8 * lead + 0.2 * took
            if result.outcome == Outcome.SENT:
                sent += 1
                progress = True
                if job is not None:
                    outbox.drop_waiting_job(job)  # sent here: no worker forks for it any more
            elif result.outcome == Outcome.HELD:
                held = True
            else:
                passed_over.add(phone)  # read again at the next reading if it still waits
        hand = kept
        if progress:
            continue
        soon = time.monotonic() + MAX_WAIT
        later = [until for until in full_until.values() if until > soon]
        if later and min(later) < deadline:
            # Nothing fits anywhere: wake in time to book the first room as it opens.
            time.sleep(max(0.0, min(later) - MAX_WAIT - time.monotonic()))
        elif held:
            time.sleep(IDLE_SECONDS)  # other workers are on the rest: see what is left
        elif not fresh:
            hand = []  # what is in hand could not go: read the queue again
        else:
            break  # nothing can go: none due, or only messages waiting for a disclaimer
    return sent


def due_messages(queue: Queue, full: list[str]) -> list[tuple]:
    """Return due messages of ``queue`` in their fair order (``fairness``: those given their
    turn), as (id, sticky number or None, its rate, phone, segments), leaving out those of
    the ``full`` numbers."""
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
            SmsMessage.fair_tag.is_not(None),
            SmsMessage.send_at <= platform_now(),
        )
        .order_by(SmsMessage.fair_tag, SmsMessage.id)
        .limit(PAGE)
    )
    if full:
        query = query.where(SenderNumber.number.is_(None) | SenderNumber.number.not_in(full))
    rows = [tuple(row) for row in db.session.execute(query)]
    db.session.commit()
    return rows
