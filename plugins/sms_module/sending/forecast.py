"""Who gets which share of a queue, and when each shop's last message leaves (issue 14,
point 1; PRODUCT.md §7: "the operator sees each queue's backlog and when it will drain").

The shops with waiting messages take turns (``fairness``), so a queue drains like a
processor shared equally between its busy shops: with capacity C segments per second and
backlogs d₁ ≤ d₂ ≤ … ≤ dₙ (segments), shop k's last message leaves after

    (d₁ + … + dₖ + (n − k) · dₖ) / C seconds

(each busy shop gets C/n while n are busy; a small backlog is gone early and its share
goes to the others). The model counts the pool as one: a shop whose phones all stick to
one number drains at that number's pace, later than forecast. Promotional messages wait
out the shop's night (``compliance.quiet_hours``): a forecast that ends in it moves on to
the morning by what was left. A message held for later (Queued or Scheduled, its send time
ahead: held for the night) is no due backlog (``is_due``); a campaign's forecast counts it
from its send time on (``backlog_at``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, select

from host.api import Company, db, shop_zone
from plugins.sms_module.compliance import quiet_hours
from plugins.sms_module.models import Queue, SenderNumber, SmsMessage, SmsStatusChange, Status
from plugins.sms_module.sending import checks

# What a shop's backlog counts: due and waiting, or in its carrier call (``is_due``).
BACKLOG = (Status.SCHEDULED, Status.QUEUED, Status.SENDING)
# The window the measured share of each shop is taken over.
RECENT = timedelta(minutes=5)


@dataclass
class ShopShare:
    """One shop's part of one queue: its due backlog, the share of the queue's capacity it
    gets now (``fair``: 1/n of n busy shops) and got over the last five minutes
    (``recent``: its part of the segments sent), and when its last due message leaves."""

    queue: Queue
    company_id: int | None
    name: str
    messages: int
    segments: int
    fair: float  # 0..1
    recent: float  # 0..1
    drain_seconds: float  # math.inf when the queue has no enabled number
    drain_at: datetime | None


def finish_times(demands: Sequence[float], capacity: float) -> list[float]:
    """Return when each of ``demands`` (segments) is served under equal sharing of
    ``capacity`` (segments per second), in seconds, in the order given; ``math.inf`` for
    every non-empty demand when ``capacity`` is 0."""
    order = sorted(range(len(demands)), key=lambda i: demands[i])
    finish = [0.0] * len(demands)
    done = 0.0  # segments of the shops already finished
    for rank, i in enumerate(order):
        d = max(float(demands[i]), 0.0)
        if d == 0:
            continue
        later = len(order) - rank - 1
        finish[i] = (done + d + later * d) / capacity if capacity > 0 else math.inf
        done += d
    return finish


def remaining_after(demands: Sequence[float], capacity: float, seconds: float) -> list[float]:
    """Return what is left of each of ``demands`` after ``seconds`` of equal sharing."""
    left = [max(float(d), 0.0) for d in demands]
    budget = max(seconds, 0.0) * capacity
    while budget > 1e-9:
        busy = [i for i, d in enumerate(left) if d > 1e-9]
        if not busy:
            break
        step = min(min(left[i] for i in busy), budget / len(busy))
        for i in busy:
            left[i] -= step
        budget -= step * len(busy)
    return left


def capacity(queue: Queue) -> float:
    """Segments per second of ``queue``'s enabled numbers together."""
    total = db.session.scalar(
        select(func.sum(SenderNumber.rate)).where(
            SenderNumber.queue == queue, SenderNumber.enabled.is_(True)
        )
    )
    return float(total or 0)


def is_due(now: datetime) -> ColumnElement[bool]:
    """SQL: a message of the backlog is due at ``now``: in its carrier call (Sending), or
    its send time reached by the send job's own test (``checks.not_due``). A Queued message
    whose send time is ahead is held: for the shop's night (``checks.held_for_the_night``
    moved it to the morning) or put back by a job that came early; it is due when the send
    job says so, not before, like a Scheduled one."""
    reached = SmsMessage.send_at.is_(None) | (SmsMessage.send_at <= now + checks.EARLY_TOLERANCE)
    return (SmsMessage.status == Status.SENDING) | reached


def backlogs(queue: Queue, now: datetime) -> dict[int | None, tuple[int, int]]:
    """Return each shop's due backlog on ``queue`` (``is_due``): shop id → (messages,
    segments). Messages held for later (the night) are not in it."""
    due = is_due(now)
    rows = db.session.execute(
        select(
            SmsMessage.company_id,
            func.count(),
            func.coalesce(func.sum(SmsMessage.segments), 0),
        )
        .where(SmsMessage.queue == queue, SmsMessage.status.in_(BACKLOG), due)
        .group_by(SmsMessage.company_id)
    )
    return {shop: (count, int(segments)) for shop, count, segments in rows}


def recent_shares(queue: Queue, now: datetime) -> dict[int | None, float]:
    """Return each shop's part (0..1) of the segments ``queue`` sent in the last five
    minutes (the Sent steps of the history)."""
    rows = db.session.execute(
        select(SmsMessage.company_id, func.sum(SmsMessage.segments))
        .join(SmsStatusChange, SmsStatusChange.message_id == SmsMessage.id)
        .where(
            SmsStatusChange.status == Status.SENT,
            SmsStatusChange.at >= now - RECENT,
            SmsMessage.queue == queue,
        )
        .group_by(SmsMessage.company_id)
    )
    sent = {shop: float(segments or 0) for shop, segments in rows}
    total = sum(sent.values())
    return {shop: value / total for shop, value in sent.items()} if total else {}


def shop_shares(now: datetime) -> list[ShopShare]:
    """Return every shop with a due backlog on a queue, the biggest backlog first."""
    shares: list[ShopShare] = []
    for queue in Queue:
        waiting = backlogs(queue, now)
        if not waiting:
            continue
        rate = capacity(queue)
        recent = recent_shares(queue, now)
        shops = list(waiting)
        finish = finish_times([waiting[shop][1] for shop in shops], rate)
        names = _names([shop for shop in shops if shop is not None])
        for shop, seconds in zip(shops, finish, strict=True):
            messages, segments = waiting[shop]
            shares.append(
                ShopShare(
                    queue=queue,
                    company_id=shop,
                    name=names.get(shop, ""),
                    messages=messages,
                    segments=segments,
                    fair=1 / len(shops),
                    recent=recent.get(shop, 0.0),
                    drain_seconds=seconds,
                    drain_at=now + timedelta(seconds=seconds) if math.isfinite(seconds) else None,
                )
            )
    shares.sort(key=lambda s: (s.queue.value, -s.segments))
    return shares


def last_message_leaves(
    company: Company, segments: int, start_at: datetime, now: datetime
) -> datetime | None:
    """Return when the last of a campaign's ``segments`` (its messages and first-contact
    disclaimers, promotional queue) should leave if it starts at ``start_at``, given the
    queue's backlog (``backlog_at``), the turns shops take, and the shop's night; ``None``
    when the promotional pool has no enabled number."""
    queue = Queue.PROMOTIONAL
    rate = capacity(queue)
    if rate <= 0:
        return None
    start = max(start_at, now)
    begin = quiet_hours.next_morning(start, company)
    left = backlog_at(queue, rate, now, start, begin)
    own = left.pop(company.id, 0.0)
    seconds = finish_times([*left.values(), own + segments], rate)[-1]
    return _after_nights(company, begin, seconds)


def backlog_at(
    queue: Queue, rate: float, now: datetime, start: datetime, begin: datetime
) -> dict[int | None, float]:
    """Return each shop's segments left on ``queue`` when a campaign starting at ``start``
    sends its first message (``begin``: ``start`` out of its shop's night). The due backlog
    (``backlogs``) drains from ``now`` on; a message held for later (``is_due``: the night)
    joins it at its send time if that comes by ``begin``, and waits until then."""
    held = db.session.execute(
        select(SmsMessage.send_at, SmsMessage.company_id, func.sum(SmsMessage.segments))
        .where(
            SmsMessage.queue == queue,
            SmsMessage.status.in_(BACKLOG),
            ~is_due(now),
            SmsMessage.send_at <= begin,
        )
        .group_by(SmsMessage.send_at, SmsMessage.company_id)
        .order_by(SmsMessage.send_at)
    ).all()
    left = {shop: float(segs) for shop, (_, segs) in backlogs(queue, now).items()}
    at = now
    for send_at, shop, segs in held:
        step = min(max(send_at, at), start)
        left = _drained(left, rate, (step - at).total_seconds())
        left[shop] = left.get(shop, 0.0) + float(segs or 0)
        at = step
    return _drained(left, rate, (start - at).total_seconds())


def _drained(left: dict[int | None, float], rate: float, seconds: float) -> dict:
    shops = list(left)
    return dict(zip(shops, remaining_after([left[s] for s in shops], rate, seconds), strict=True))


def _after_nights(company: Company, start: datetime, seconds: float) -> datetime:
    """Return ``start`` (out of the shop's night) plus ``seconds`` of sending, the shop's
    nights left out."""
    at = start
    for _ in range(366):  # a year of evenings at most
        finish = at + timedelta(seconds=seconds)
        night = _next_night(company, at)
        if finish <= night:
            return finish
        seconds -= (night - at).total_seconds()
        at = quiet_hours.next_morning(night, company)
    return at + timedelta(seconds=seconds)


def _next_night(company: Company, at: datetime) -> datetime:
    """Return when the shop's next night begins after ``at`` (UTC)."""
    zone = shop_zone(company)
    start, _ = quiet_hours.quiet_hours()
    local = at.astimezone(zone)
    night = datetime.combine(local.date(), start, zone)
    if night <= local:
        night = datetime.combine(local.date() + timedelta(days=1), start, zone)
    return night.astimezone(UTC)


def _names(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        db.session.execute(select(Company.id, Company.name).where(Company.id.in_(ids))).all()
    )
