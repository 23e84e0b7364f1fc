"""The operator's figures on the sending pipeline, cluster-wide, computed when asked.

Everything comes from the database, the source of truth, and from Redis, so every web
process answers the same whatever worker did the work: nothing is counted in memory.
Each figure is one aggregate query (GROUP BY) except the latencies, which read one row per
message that reached Sending or Sent in the last hour. Failures are the carrier's; the
messages a rule refused before the carrier had them (``statuses.is_refusal``) are counted
apart, as refusals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from flask import current_app
from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased

from host.api import db, get_redis, utcnow
from plugins.sms_module.carriers.simulator import BREACHES_KEY
from plugins.sms_module.models import Queue, SenderNumber, SmsMessage, SmsStatusChange
from plugins.sms_module.models.statuses import Status, refusal_sql
from plugins.sms_module.sending import forecast

BACKLOG = (Status.SCHEDULED, Status.QUEUED, Status.SENDING)
FAILED = (Status.FAILED, Status.UNDELIVERED)
WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(days=1)}
QUANTILES = (0.5, 0.95, 0.99)
LATENCY_WINDOW = timedelta(hours=1)
NO_CODE = "none"


@dataclass
class QueueFigures:
    """One queue's backlog, capacity and when the backlog will be gone."""

    queue: Queue
    due_messages: int = 0
    due_segments: int = 0
    later_messages: int = 0
    later_segments: int = 0
    capacity: float = 0.0  # segments per second of the pool's enabled numbers
    drain_seconds: float = 0.0  # math.inf when there is a backlog and no enabled number
    drain_at: datetime | None = None


@dataclass
class NumberFigures:
    """One sender number: its settings, last send and what it sent in the last hour."""

    number: str
    queue: Queue
    rate: float
    enabled: bool
    last_sent_at: datetime | None
    sent_messages: int = 0
    sent_segments: int = 0
    breaches: int | None = None  # the simulator's count; None with a real carrier


@dataclass
class Latency:
    """Quantiles, in seconds, of one stage over the last hour; empty with no sample."""

    stage: str
    samples: int
    quantiles: dict[float, float] = field(default_factory=dict)


@dataclass
class Snapshot:
    """Every figure at one moment."""

    taken_at: datetime
    queues: list[QueueFigures]
    numbers: list[NumberFigures]
    failures: dict[str, dict[str, int]]  # window → the carrier's failure code → messages
    latencies: list[Latency]
    simulator: bool
    breaches: int | None  # the simulator's total, None with a real carrier or Redis down
    redis_up: bool
    refusals: dict[str, dict[str, int]] = field(default_factory=dict)  # window → rule → messages


def snapshot(now: datetime | None = None) -> Snapshot:
    """Compute every figure now (or at ``now``, for tests)."""
    now = now or utcnow()
    numbers = sender_figures(now)
    simulator = current_app.config.get("SMS_PROVIDER") == "simulator"
    total, redis_up = None, True
    if simulator:
        try:
            total = _read_breaches(numbers)
        except redis.RedisError:
            redis_up = False
    return Snapshot(
        taken_at=now,
        queues=queue_figures(now, numbers),
        numbers=numbers,
        failures=failure_counts(now),
        refusals=failure_counts(now, refusals=True),
        latencies=latencies(now),
        simulator=simulator,
        breaches=total,
        redis_up=redis_up,
    )


def queue_figures(now: datetime, numbers: Sequence[NumberFigures]) -> list[QueueFigures]:
    """Return each queue's backlog (due now, later) and when the due part will drain; a
    message held for later (the night: ``forecast.is_due``) is counted later, not due."""
    due = forecast.is_due(now)
    rows = db.session.execute(
        select(
            SmsMessage.queue,
            case((due, 1), else_=0).label("due"),
            func.count(),
            func.coalesce(func.sum(SmsMessage.segments), 0),
        )
        .where(SmsMessage.status.in_(BACKLOG))
        .group_by(SmsMessage.queue, "due")
    )
    figures = {q: QueueFigures(q) for q in Queue}
    for queue, is_due, messages, segments in rows:
        row = figures[Queue(queue)]
        if is_due:
            row.due_messages, row.due_segments = messages, int(segments)
        else:
            row.later_messages, row.later_segments = messages, int(segments)
    for number in numbers:
        if number.enabled:
            figures[number.queue].capacity += number.rate
    for row in figures.values():
        row.drain_seconds = drain_seconds(row.due_segments, row.capacity)
        if math.isfinite(row.drain_seconds):
            row.drain_at = now + timedelta(seconds=row.drain_seconds)
    return list(figures.values())


def drain_seconds(segments: int, capacity: float) -> float:
    """Return how long ``segments`` take at ``capacity`` segments per second (inf if never)."""
    if segments <= 0:
        return 0.0
    return segments / capacity if capacity > 0 else math.inf


def sender_figures(now: datetime) -> list[NumberFigures]:
    """Return every sender number with the messages and segments it sent in the last hour."""
    since = now - timedelta(hours=1)
    sent = {
        number: (messages, int(segments))
        for number, messages, segments in db.session.execute(
            select(
                SmsMessage.sender_number,
                func.count(func.distinct(SmsMessage.id)),
                func.coalesce(func.sum(SmsMessage.segments), 0),
            )
            .join(SmsStatusChange, SmsStatusChange.message_id == SmsMessage.id)
            .where(
                SmsStatusChange.status == Status.SENT,
                SmsStatusChange.at > since,
                SmsStatusChange.at <= now,
            )
            .group_by(SmsMessage.sender_number)
        )
    }
    rows = db.session.scalars(select(SenderNumber).order_by(SenderNumber.queue, SenderNumber.id))
    return [
        NumberFigures(
            number=n.number,
            queue=n.queue,
            rate=float(n.rate),
            enabled=n.enabled,
            last_sent_at=n.last_sent_at,
            sent_messages=sent.get(n.number, (0, 0))[0],
            sent_segments=sent.get(n.number, (0, 0))[1],
        )
        for n in rows
    ]


def failure_counts(now: datetime, refusals: bool = False) -> dict[str, dict[str, int]]:
    """Return, per window ("1h", "24h"), how many messages became Failed or Undelivered at
    the carrier, by failure code; with ``refusals``, how many a rule refused instead, by the
    rule's code (``statuses.is_refusal``: refusals are not failures)."""
    refused = refusal_sql(SmsMessage.status, SmsMessage.failure_code)
    start = now - max(WINDOWS.values())
    in_window = {
        name: func.sum(case((SmsStatusChange.at > now - span, 1), else_=0))
        for name, span in WINDOWS.items()
    }
    rows = db.session.execute(
        select(SmsMessage.failure_code, *in_window.values())
        .join(SmsStatusChange, SmsStatusChange.message_id == SmsMessage.id)
        .where(
            SmsStatusChange.status.in_(FAILED),
            SmsStatusChange.at > start,
            SmsStatusChange.at <= now,
            refused if refusals else ~refused,
        )
        .group_by(SmsMessage.failure_code)
    )
    counts: dict[str, dict[str, int]] = {name: {} for name in WINDOWS}
    for code, *sums in rows:
        for name, value in zip(WINDOWS, sums, strict=True):
            if value:
                key = code or NO_CODE
                counts[name][key] = counts[name].get(key, 0) + int(value)
    return counts


def latencies(now: datetime) -> list[Latency]:
    """Return the last hour's latency from due to Sending and from Sending to Sent."""
    since = now - LATENCY_WINDOW
    change, earlier = SmsStatusChange, aliased(SmsStatusChange)
    # The first Sending of each message, if it happened in the window (retries add more rows).
    first = db.session.execute(
        select(SmsMessage.send_at, func.min(change.at))
        .join(change, change.message_id == SmsMessage.id)
        .where(change.status == Status.SENDING, change.at > since, change.at <= now)
        .where(
            ~exists().where(
                earlier.message_id == change.message_id,
                earlier.status == Status.SENDING,
                earlier.at <= since,
            )
        )
        .group_by(SmsMessage.id, SmsMessage.send_at)
    )
    to_sending = [(at - due).total_seconds() for due, at in first if due is not None]
    # Sent, against the last Sending before it: the attempt the carrier accepted.
    attempt = (
        select(func.max(earlier.at))
        .where(
            and_(
                earlier.message_id == change.message_id,
                earlier.status == Status.SENDING,
                earlier.at <= change.at,
            )
        )
        .scalar_subquery()
    )
    sent = db.session.execute(
        select(change.at, attempt).where(
            change.status == Status.SENT, change.at > since, change.at <= now
        )
    )
    to_sent = [(at - began).total_seconds() for at, began in sent if began is not None]
    return [_latency("due_to_sending", to_sending), _latency("sending_to_sent", to_sent)]


def _latency(stage: str, values: list[float]) -> Latency:
    values = sorted(max(0.0, v) for v in values)
    return Latency(stage, len(values), {q: quantile(values, q) for q in QUANTILES if values})


def quantile(ordered: Sequence[float], q: float) -> float:
    """Return the nearest-rank ``q`` quantile of ``ordered`` (sorted, not empty)."""
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def _read_breaches(numbers: list[NumberFigures]) -> int:
    client = get_redis()
    keys = [BREACHES_KEY] + [f"{BREACHES_KEY}:{n.number}" for n in numbers]
    total, *each = client.mget(keys)
    for number, value in zip(numbers, each, strict=True):
        number.breaches = int(value or 0)
    return int(total or 0)
