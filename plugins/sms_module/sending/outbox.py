"""From a committed Scheduled message to a job on its RQ queue (the transactional outbox).

The database is the source of truth. A message is put on its queue when it is
committed (``message_scheduled``), and a sweeper run by every worker finds what that
missed: a crash between the commit and the enqueue, an emptied Redis, a worker killed
in the middle of a send. Each message has at most one live job, whose id is kept in
Redis; a job that runs twice anyway finds the message already claimed
(``send_job.send_leased``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import current_app
from rq import Queue as RqQueue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from rq.results import Result
from sqlalchemy import or_, select, update

from host.api import db, get_queue, get_redis, platform_now, utcnow
from plugins.sms_module.models import SmsMessage, Source, lifecycle
from plugins.sms_module.models.statuses import Status

LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
_STATUS_VALUES = frozenset(status.value for status in JobStatus)
# KEYS: the hash of job ids, the item's lease. ARGV: the item's id, RQ's job key prefix.
# Returns nothing when no job is recorded, else {job id, lease held (0|1), the job's hash}.
# The job's key is made from the id it reads: one Redis server, as RQ itself needs.
_TRACKED = """
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
return {id, redis.call('EXISTS', KEYS[2]), redis.call('HGETALL', ARGV[2] .. id)}
"""
# KEYS: the hash of job ids. ARGV: RQ's job key prefix, the lease key prefix, then item ids.
# Returns, for each item, its job's status ('' when none is recorded or its record is gone)
# and whether its lease is held (0|1): the sweeper's look at 500 messages in one round trip.
_STATUSES = """
local out = {}
for i = 3, #ARGV do
  local id = redis.call('HGET', KEYS[1], ARGV[i])
  local status = id and redis.call('HGET', ARGV[1] .. id, 'status') or false
  out[#out + 1] = status or ''
  out[#out + 1] = redis.call('EXISTS', ARGV[2] .. ARGV[i])
end
return out
"""
# KEYS: the job's hash, its queue, its queue's scheduled registry, its dependents, its
# dependencies, its results (RQ's own key names). ARGV: the job's id, the waiting statuses.
_DROP = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= ARGV[2] and status ~= ARGV[3] then return 0 end
redis.call('LREM', KEYS[2], 1, ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[1], KEYS[4], KEYS[5], KEYS[6])
return 1
"""
JOBS_KEY = "sms:jobs"  # message id → id of its live job
SEND_FUNCTION = "plugins.sms_module.jobs.send_message"


def message_scheduled(message_id: int) -> None:
    """Put a newly committed Scheduled message on its queue, now or at its send time (the
    send service and the keyword answers call it after their commit).

    Never raises for Redis: away, the message stays Scheduled (a warning is logged) and the
    sweeper gives it its job once Redis is back, so an API call answers once the message is
    committed, whatever Redis does (issue 15, point 1)."""
    # Imported here: this function is all of the module the outbox change of issue 15 owns.
    import logging

    from redis.exceptions import RedisError

    message = db.session.get(SmsMessage, message_id)
    if message is None:
        return
    try:
        enqueue(message)
    except RedisError as exc:
        logging.getLogger(__name__).warning(
            "message %s not queued (%s): the sweeper will queue it", message_id, exc
        )


def live_job(message_id: int) -> Job | None:
    """Return the message's job if it is waiting, scheduled or running."""
    return tracked_job(JOBS_KEY, message_id, lease_key(message_id))


def tracked_job(
    jobs_key: str, item_id: int, lease: str, keep: frozenset | set = LIVE
) -> Job | None:
    """Return the job recorded for ``item_id`` in the hash ``jobs_key`` if its status is one
    of ``keep``; a started job whose ``lease`` nobody holds is lost: its worker died.

    One round trip (``_TRACKED``: the job's id, its hash and the lease together), not three:
    a backlog run asks it for every message it sends (issue 14, point 7)."""
    redis = get_redis()
    found = redis.register_script(_TRACKED)(
        keys=[jobs_key, lease], args=[item_id, Job.redis_job_namespace_prefix]
    )
    if not found or not found[2]:
        return None  # no job recorded, or its record is gone
    job_id, leased, fields = found
    job = Job(job_id.decode(), connection=redis)
    try:
        job.restore(dict(zip(fields[::2], fields[1::2], strict=True)))  # as Job.fetch does
    except NoSuchJobError:
        return None  # a record of another shape: no job of ours
    return job if _alive(job.get_status(refresh=False), bool(leased), keep) else None


def drop_waiting_job(job: Job) -> bool:
    """Delete ``job`` if it is still waiting (queued, or scheduled: no worker has it), in one
    round trip (``_DROP``); return whether it was. A backlog run drops the job of a message
    it sent, so no worker forks for it; one a worker took meanwhile is left to it."""
    redis = get_redis()
    queue = RqQueue(job.origin, connection=redis)
    scheduled = ScheduledJobRegistry(job.origin, connection=redis)
    keys = [job.key, queue.key, scheduled.key, job.dependents_key, job.dependencies_key]
    keys.append(Result.get_key(job.id))
    waiting = [JobStatus.QUEUED.value, JobStatus.SCHEDULED.value]
    return bool(redis.register_script(_DROP)(keys=keys, args=[job.id, *waiting]))


def lease_key(message_id: int) -> str:
    """Return the Redis key a worker holds while it sends the message."""
    return f"sms:sending:{message_id}"


def enqueue(message: SmsMessage, at: datetime | None = None, force: bool = False) -> Job | None:
    """Give ``message`` a job on its queue unless it has a live one; mark it Queued if due.

    ``force`` replaces the live job (the job re-enqueuing itself for later). Due or not is
    judged by the platform's clock (``platform_now``, Redis's), by which due jobs are
    released (``host.scheduling``): a worker's fast clock sends nothing early (issue 15).
    """
    if not force and live_job(message.id) is not None:
        return None
    config = current_app.config
    queue = get_queue(message.queue.value)
    job_id = f"sms-{message.id}-{uuid.uuid4().hex[:8]}"
    when = at or message.send_at
    kwargs = {
        "job_id": job_id,
        "job_timeout": config["SMS_JOB_TIMEOUT"],
        "result_ttl": 600,
        "failure_ttl": 7 * 24 * 3600,
    }
    get_redis().hset(JOBS_KEY, message.id, job_id)
    if when is not None and when > platform_now() + timedelta(milliseconds=200):
        # Scheduled jobs keep whole seconds: round up, so the job never runs early.
        if when.microsecond:
            when = when.replace(microsecond=0) + timedelta(seconds=1)
        job = queue.enqueue_at(when, SEND_FUNCTION, message.id, **kwargs)
    else:
        job = queue.enqueue(SEND_FUNCTION, message.id, **kwargs)
        get_redis().incr(due_count_key(message.queue.value))
        mark_queued(message.id)
    return job


def due_count_key(queue: str) -> str:
    """Return the Redis counter of messages put on ``queue`` due at once: a backlog run that
    sees it move reads the queue again before its ``REFRESH_SECONDS`` are up, so a shop's
    new message waits for no stale reading (issue 14, point 1)."""
    return f"sms:due-count:{queue}"


def mark_queued(message_id: int) -> None:
    """Move a Scheduled message to Queued (no-op for any other status)."""
    # populate_existing: a copy already in the session may be stale (e.g. Sent since);
    # the locked row's own status decides, else Sent would be overwritten with Queued.
    message = db.session.scalar(
        select(SmsMessage)
        .where(SmsMessage.id == message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if message is not None and message.status == Status.SCHEDULED:
        lifecycle.move(message, Status.QUEUED, Source.MODULE)
    db.session.commit()


def forget_job(message_id: int) -> None:
    """Drop the message's job id once it needs no job any more."""
    get_redis().hdel(JOBS_KEY, message_id)


def sweep(limit: int = 500) -> int:
    """Give a job to every message that should have one and has none; return how many.
    Its thresholds are judged by the platform's clock (``platform_now``)."""
    config = current_app.config
    now = platform_now()
    grace = timedelta(seconds=config["SMS_SWEEP_GRACE_SECONDS"])
    # A message in Sending whose lease nobody holds lost its worker: its lease lapses within
    # SMS_LEASE_TTL_SECONDS of the death (``lease``), and the send job asks the carrier first.
    stale_sending = now - grace
    # A campaign's waiting messages have no job each: a few send jobs drain them with their
    # queue's backlog (``campaigns.queueing.drain``, issue 14 point 4), never one by one.
    own_job = SmsMessage.campaign_id.is_(None)
    candidates = db.session.scalars(
        select(SmsMessage.id)
        .where(
            or_(
                (SmsMessage.status == Status.SCHEDULED)
                & (SmsMessage.send_at <= now + grace)
                & own_job,
                (SmsMessage.status == Status.QUEUED)
                & (SmsMessage.updated_at <= now - grace)
                & own_job,
                (SmsMessage.status == Status.SENDING) & (SmsMessage.updated_at <= stale_sending),
            )
        )
        .order_by(SmsMessage.send_at)
        .limit(limit)
    ).all()
    count = 0
    with_job = with_live_job(candidates)
    for message_id in candidates:
        if message_id in with_job:
            continue
        message = db.session.get(SmsMessage, message_id)
        if message is not None and enqueue(message) is not None:
            count += 1
    db.session.commit()
    return count


def with_live_job(message_ids: list[int]) -> set[int]:
    """Return those of ``message_ids`` whose job is live (``LIVE``, as ``live_job`` judges
    it: a started job whose lease nobody holds is lost), in one round trip (``_STATUSES``):
    the sweeper looked at each of its 500 candidates with a call of its own, each second,
    with the fork guard held (issue 14, point 7)."""
    if not message_ids:
        return set()
    found = get_redis().register_script(_STATUSES)(
        keys=[JOBS_KEY], args=[Job.redis_job_namespace_prefix, lease_key(""), *message_ids]
    )
    return {
        message_id
        for message_id, status, leased in zip(message_ids, found[::2], found[1::2], strict=True)
        if status.decode() in _STATUS_VALUES
        and _alive(JobStatus(status.decode()), bool(leased), LIVE)
    }


def _alive(status: JobStatus, leased: bool, keep: frozenset | set) -> bool:
    """Tell whether a job in ``status`` counts as one of ``keep``: a started job whose lease
    nobody holds does not (its worker died mid-job)."""
    return status in keep and not (status == JobStatus.STARTED and not leased)


def touch(message_id: int) -> None:
    """Note that the message is being worked on (keeps the sweeper away)."""
    db.session.execute(
        update(SmsMessage).where(SmsMessage.id == message_id).values(updated_at=utcnow())
    )
