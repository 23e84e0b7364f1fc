"""Jobs due later (``enqueue_at``/``enqueue_in``) put on their queue when Redis's clock says
they are due, by every worker, one of the cluster at a time, twice a second.

RQ's own scheduler runs in one worker under a lock that outlives a killed holder by a
minute, and the other workers try for it every ten minutes: a worker killed while holding it
delayed every scheduled send by 10–15 minutes, and it judged due times by the worker's own
clock (issue 15, point 4). Here the lock lives one second (a dead holder loses it within a
second, another worker takes over half a second later), and due times are Redis's ``TIME``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Sequence

import redis
from flask import Flask
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

# The errors of a service being away (Redis, the database), not of a bug: the worker waits
# for it and goes on (issue 15, point 4).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,  # BusyLoadingError (Redis starting) is one too
    redis.exceptions.TimeoutError,
    sa_exc.OperationalError,  # PostgreSQL down or restarting, a SQLite file locked
    sa_exc.DisconnectionError,
)

RELEASE_LOCK = "crmhost:release-due"
# How often the holder releases due jobs (seconds), and how long the lock outlives its
# holder's last renewal (milliseconds).
RELEASE_EVERY = 0.5
LOCK_MS = 1000
# Most jobs released from one queue in one pass (the next pass takes the rest).
CHUNK = 1000

# Take the lock if it is free, or extend it if the caller holds it; 1 if the caller holds it.
_TAKE_OR_KEEP = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return 1
end
return 0
"""
_GIVE_UP = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def release_due(connection: redis.Redis, queue_names: Sequence[str]) -> int:
    """Put every job of ``queue_names``' scheduled registries that is due by Redis's clock
    (score ≤ Redis ``TIME``, whole epoch seconds) on its queue, the way RQ's
    ``RQScheduler.enqueue_scheduled_jobs`` does; return how many were put.

    Each job moves in one transaction (out of the registry, onto the queue) watched on the
    job's key: two releasers running at once never both enqueue it, and a releaser killed
    midway leaves it in the registry. A registry entry whose job is gone is dropped.
    Raises ``redis.exceptions.ConnectionError`` when Redis cannot be reached."""
    seconds, _ = connection.time()
    released = 0
    for name in queue_names:
        queue = Queue(name, connection=connection)
        registry = ScheduledJobRegistry(queue=queue)
        for job_id in registry.get_jobs_to_schedule(int(seconds), chunk_size=CHUNK):
            released += _release(connection, queue, registry, job_id)
    return released


def _release(
    connection: redis.Redis, queue: Queue, registry: ScheduledJobRegistry, job_id: str
) -> int:
    """Move one due job from ``registry`` to ``queue``; 1 if this call moved it."""
    with connection.pipeline() as pipe:
        try:
            pipe.watch(Job.key_for(job_id))
            if pipe.zscore(registry.key, job_id) is None:
                return 0  # another releaser moved it meanwhile
            try:
                job: Job | None = Job.fetch(job_id, connection=connection)
            except NoSuchJobError:
                job = None  # expired or deleted: only its registry entry is left
            pipe.multi()
            pipe.zrem(registry.key, job_id)
            if job is not None:
                at_front = job.should_enqueue_at_front()
                if job.has_rate_limit:
                    queue._enqueue_rate_limited_job(job, pipeline=pipe, at_front=at_front)
                else:
                    queue._enqueue_job(job, pipeline=pipe, at_front=at_front)
            pipe.execute()
        except redis.WatchError:
            return 0  # the job changed under us (another releaser): it is theirs
    return 1 if job is not None else 0


class DueReleaser:
    """Run ``release_due`` over ``queue_names`` every ``every`` seconds in a daemon thread,
    while this process holds the cluster-wide lock ``RELEASE_LOCK`` (taken when free, kept
    by renewing it each round, lost ``lock_ms`` after its holder stops renewing).

    Its own thread: slow periodic tasks (a sweep on a slow database) never hold it back.
    Redis away: it logs a warning once and keeps trying."""

    def __init__(
        self,
        connection: redis.Redis,
        queue_names: Sequence[str],
        every: float = RELEASE_EVERY,
        lock_ms: int = LOCK_MS,
    ) -> None:
        self.connection = connection
        self.queue_names = list(queue_names)
        self.every = every
        self.lock_ms = lock_ms
        # Says who holds the lock (host and pid), for people and tests looking at Redis.
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._take = connection.register_script(_TAKE_OR_KEEP)
        self._give_up = connection.register_script(_GIVE_UP)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int | None:
        """Release the due jobs if this process holds (or takes) the lock: how many, or None
        when another process holds it. Raises Redis's connection errors."""
        if not self._take(keys=[RELEASE_LOCK], args=[self.token, self.lock_ms]):
            return None
        return release_due(self.connection, self.queue_names)

    def start(self) -> None:
        """Start the releasing thread (daemon) until ``stop``."""
        self._thread = threading.Thread(target=self._loop, name="release-due", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and hand the lock on at once (if held), so that another worker
        releases without waiting for it to expire."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self._give_up(keys=[RELEASE_LOCK], args=[self.token])
        except redis.RedisError:
            pass  # Redis away: the lock expires on its own

    def _loop(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # Redis away for a while: keep trying
                if not failing:
                    log.warning("cannot release due jobs, trying again: %s", exc)
                failing = True
            else:
                if failing:
                    log.warning("releasing due jobs again")
                failing = False
            self._stop.wait(self.every)


# Taken by ``os.fork`` (``host.worker``) and by a periodic task while it runs: a thread's
# lock held at the fork stays held forever in the child, which hung work horses in their
# first ``sqlite3.connect``. Reentrant, so a task that itself forks does not wait on itself.
FORK_GUARD = threading.RLock()


class PeriodicRunner:
    """Run the plugins' periodic tasks from a worker, one worker of the cluster at a time."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.tasks = app.extensions["periodic_tasks"]
        self.redis = app.extensions["redis_connection"].client
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> list[str]:
        """Run every task whose cluster-wide lock is free; return the names run."""
        ran = []
        for task in self.tasks:
            lock = f"crmhost:periodic:{task.name}"
            # The lock lives one interval: whoever takes it runs the task this time round.
            if not self.redis.set(lock, os.getpid(), nx=True, px=int(task.every_seconds * 1000)):
                continue
            try:
                # Held while the task talks to the database: a work horse is not forked in
                # the middle (it would inherit a lock nobody releases: SQLite's, a pool's).
                with FORK_GUARD, self.app.app_context():
                    task.function()
                ran.append(task.name)
            except CONNECTION_ERRORS as exc:  # the database away: it runs again next round
                log.warning("periodic task %s failed: %s", task.name, exc)
            except Exception:
                log.exception("periodic task %s failed", task.name)
        return ran

    def start(self) -> None:
        """Run the tasks in a daemon thread, a first time at once, until ``stop``."""
        if not self.tasks:
            return
        interval = min(task.every_seconds for task in self.tasks)
        self._thread = threading.Thread(target=self._loop, args=(interval,), daemon=True)
        self._thread.start()

    def _loop(self, interval: float) -> None:
        while True:
            try:
                self.run_once()
            except CONNECTION_ERRORS as exc:  # Redis away for a while: try again next round
                log.warning("periodic tasks could not run: %s", exc)
            except Exception:
                log.exception("periodic tasks could not run")
            if self._stop.wait(interval):
                return

    def stop(self) -> None:
        self._stop.set()
