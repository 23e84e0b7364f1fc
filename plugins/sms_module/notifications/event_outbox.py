"""The host's events as the SMS module's outbox (issue 15, point 1): nothing an event must
send is lost with Redis.

Every event is a row of the host's event log (``HostEvent``), committed with the save that
caused it. The hooks put the event's job on the transactional queue; an event whose job
has done its work gets a row here (``SmsEventHandled``). The sweeper (``sweep_events``, run
by ``jobs.sweep`` every second) gives a job to every event of the last
``SMS_EVENT_SWEEP_HOURS`` hours (default 24) that is neither handled nor has a live job,
once it is ``SMS_SWEEP_GRACE_SECONDS`` old: Redis away when the hook enqueued, Redis
emptied since, a worker killed in the job. Each event has at most one live job, whose id is
kept in the Redis hash ``sms:event-jobs`` (as ``sending.outbox`` keeps messages'). A job
that runs twice anyway sends nothing twice: its texts' keys carry the event.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import current_app
from rq import Retry
from rq.job import JobStatus
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from host.api import HostEvent, UTCDateTime, db, get_queue, get_redis, utcnow
from plugins.sms_module.compliance import rules
from plugins.sms_module.models import Queue
from plugins.sms_module.sending.lease import Lease
from plugins.sms_module.sending.outbox import LIVE, tracked_job

log = logging.getLogger(__name__)

QUEUE = Queue.TRANSACTIONAL.value
# The host's events handled by a job, by the hook's name; the job's RQ entry point is
# ``plugins.sms_module.jobs.<name>``.
EVENTS = ("appointment_changed", "invoice_printed", "customer_saved")
# Events the module ignores while it is off for the shop (customer_saved never is: a
# withdrawn consent or a changed phone matter even then).
WHILE_ON = ("appointment_changed", "invoice_printed")
JOBS_KEY = "sms:event-jobs"  # event id → id of its live job
PRUNE_KEY = "sms:event-handled-pruned"  # set while the handled rows were pruned lately
JOB_TIMEOUT = 60
# A job that failed for good is tried again by the sweeper once RQ forgets it, an hour
# later: an event that always fails costs a few tries a day, not one a second.
FAILURE_TTL = 3600
KEEP = frozenset(LIVE | {JobStatus.FAILED})


class SmsEventHandled(db.Model):
    """A host event whose job did its work: the sweeper leaves it alone."""

    __tablename__ = "sms_event_handled"

    # The host_event row's id. No foreign key: the host prunes its log on its own, and the
    # sweeper prunes these rows once their event is out of its window.
    event_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def lease_key(event_id: int) -> str:
    """Return the Redis key a worker holds while it runs the event's job."""
    return f"sms:event-running:{event_id}"


def live_job(event_id: int):
    """Return the event's job if it is waiting, scheduled, running or failed lately."""
    return tracked_job(JOBS_KEY, event_id, lease_key(event_id), KEEP)


def enqueue_event(name: str, event_id: int | None, *args) -> str | None:
    """Put the job of event ``name`` (``EVENTS``) on the transactional queue with ``args``,
    unless the event (host_event id ``event_id``) has a live job; return the job's id.

    Raises ``ValueError`` for an unknown event and ``redis.RedisError`` when Redis is away
    (the hooks log it: the sweeper enqueues the event once Redis is back).
    """
    if name not in EVENTS:
        raise ValueError(f"unknown event {name!r}")
    if event_id is not None and live_job(event_id) is not None:
        return None
    job_id = f"sms-event-{event_id}-{uuid.uuid4().hex[:8]}"
    if event_id is not None:
        get_redis().hset(JOBS_KEY, event_id, job_id)
    get_queue(QUEUE).enqueue(
        f"plugins.sms_module.jobs.{name}",
        *args,
        job_id=job_id,
        job_timeout=JOB_TIMEOUT,
        retry=Retry(max=3, interval=[5, 30, 120]),
        result_ttl=300,
        failure_ttl=FAILURE_TTL,
    )
    return job_id


def job_args(event: HostEvent) -> tuple:
    """Return the arguments of ``event``'s job, as its hook gives them (``event_jobs``)."""
    if event.hook == "appointment_changed":
        return (event.target_id, list(event.changes), event.created, str(event.id))
    if event.hook == "invoice_printed":
        return (event.target_id, event.id)
    saved_at = event.occurred_at.isoformat()
    return (event.target_id, list(event.changes), event.created, saved_at, event.id)


def handled(event_id: int) -> bool:
    """Tell whether event ``event_id``'s work is done."""
    return db.session.get(SmsEventHandled, event_id) is not None


def mark_handled(event_id: int) -> None:
    """Record that event ``event_id``'s work is done, or that it is ignored (an event of a
    shop whose module is off); commits, a second record is a no-op. Needs no Redis."""
    if handled(event_id):
        return
    db.session.add(SmsEventHandled(event_id=event_id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another job of the same event recorded it first


def forget_job(event_id: int) -> None:
    """Drop the event's job id once its work is done."""
    get_redis().hdel(JOBS_KEY, event_id)


@contextmanager
def running(event_id: int | None) -> Iterator[None]:
    """Hold the event's lease while its job runs (``sending.lease``: renewed while the
    worker lives): a job found started whose lease nobody holds lost its worker, and the
    sweeper enqueues the event again within ``SMS_LEASE_TTL_SECONDS`` of the death."""
    if event_id is None:
        yield
        return
    ttl = current_app.config["SMS_LEASE_TTL_SECONDS"]
    held = Lease(get_redis(), lease_key(event_id), ttl)
    held.acquire()  # a second job of the same event runs anyway: its texts' keys dedupe
    try:
        yield
    finally:
        held.release()


def due_events(now: datetime, limit: int) -> list[HostEvent]:
    """Return the events the sweeper looks at: of ``EVENTS``, older than
    ``SMS_SWEEP_GRACE_SECONDS`` and younger than ``SMS_EVENT_SWEEP_HOURS``, not handled;
    oldest first. One query, on the ``occurred_at`` index."""
    config = current_app.config
    grace = timedelta(seconds=config["SMS_SWEEP_GRACE_SECONDS"])
    window = timedelta(hours=config["SMS_EVENT_SWEEP_HOURS"])
    done = exists().where(SmsEventHandled.event_id == HostEvent.id)
    return list(
        db.session.scalars(
            select(HostEvent)
            .where(
                HostEvent.occurred_at > now - window,
                HostEvent.occurred_at <= now - grace,
                HostEvent.hook.in_(EVENTS),
                ~done,
            )
            .order_by(HostEvent.occurred_at, HostEvent.id)
            .limit(limit)
        )
    )


def sweep_events(limit: int = 500) -> int:
    """Give a job to every event that should have one and has none (``due_events``);
    return how many were enqueued. An appointment or invoice event of a shop whose module
    is off now is recorded as handled, unsent, as the hooks ignore it. Raises
    ``redis.RedisError`` when Redis is away (the periodic task then runs again)."""
    now = utcnow()
    module_on: dict[int | None, bool] = {}
    count = 0
    for event in due_events(now, limit):
        if event.hook in WHILE_ON:
            if event.company_id not in module_on:
                module_on[event.company_id] = bool(
                    event.company_id and rules.module_on(event.company_id)
                )
            if not module_on[event.company_id]:
                if live_job(event.id) is None:
                    db.session.add(SmsEventHandled(event_id=event.id))
                continue
        if enqueue_event(event.hook, event.id, *job_args(event)) is not None:
            count += 1
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # a job recorded one of them meanwhile: the next sweep sees it
    prune_handled(now)
    return count


def prune_handled(now: datetime) -> int:
    """Delete, about once an hour, the handled rows of events older than the sweeper's
    window (a row is written after its event: its event is older still); return how many."""
    if not get_redis().set(PRUNE_KEY, 1, nx=True, ex=3600):
        return 0
    window = timedelta(hours=current_app.config["SMS_EVENT_SWEEP_HOURS"] + 1)
    result = db.session.execute(
        delete(SmsEventHandled).where(SmsEventHandled.handled_at < now - window)
    )
    db.session.commit()
    return result.rowcount or 0
