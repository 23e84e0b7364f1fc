"""The RQ worker: listens on the queues plugins declare and runs each job in the app context.

The application is built once, by the worker process. RQ forks a work horse per
job; the horse must not reuse the database connections pooled by its parent, so
every fork drops the inherited pools (SQLAlchemy's ``dispose(close=False)``
pattern) and the job opens fresh connections of its own.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Sequence

import redis
from flask import Flask
from rq import Queue, Worker
from rq.exceptions import StopRequested
from rq.executions import Execution
from rq.job import Job
from sqlalchemy.orm import configure_mappers

from host.extensions import db
from host.scheduling import (
    CONNECTION_ERRORS,
    FORK_GUARD,
    DueReleaser,
    PeriodicRunner,
    release_due,
)

log = logging.getLogger(__name__)
# libc's prctl, looked up in the worker (a forked horse only calls it); None off Linux.
_PRCTL = getattr(ctypes.CDLL(None), "prctl", None) if sys.platform.startswith("linux") else None


class UnknownQueue(ValueError):
    """A queue was asked for that no plugin declares."""


def _noting_errors(name: str):
    """Wrap RQ's ``Worker.<name>`` to keep the exception that ends it in ``loop_error``
    (cleared when a later call of it ends well)."""

    def method(self, *args, **kwargs):
        try:
            result = getattr(Worker, name)(self, *args, **kwargs)
        except StopRequested:
            self.loop_error = None  # a stop asked for, not a failure
            raise
        except Exception as exc:
            self.loop_error = exc
            raise
        self.loop_error = None
        return result

    method.__name__ = name
    return method


class AppWorker(Worker):
    """An RQ worker that runs each job inside a fresh context of one Flask app.

    RQ's work loop returns, logging it, on any exception it did not expect (Redis away
    while a job ends, say): ``loop_error`` keeps that exception, so that ``run_worker``
    tells a service away from a bug without reading logs. It is ``None`` after a loop that
    ended as asked (a stop signal, ``--burst`` done)."""

    app: Flask
    loop_error: BaseException | None = None
    # RQ's own wait while Redis is away (inside its dequeue): 1, 2, 4 … up to 30 seconds.
    max_connection_wait_time = 30.0

    # The calls of RQ's work loop (rq/worker/base.py, ``Worker.work``).
    check_for_suspension = _noting_errors("check_for_suspension")
    run_maintenance_tasks = _noting_errors("run_maintenance_tasks")
    dequeue_job_and_maintain_ttl = _noting_errors("dequeue_job_and_maintain_ttl")
    execute_job = _noting_errors("execute_job")
    heartbeat = _noting_errors("heartbeat")

    stop_asked = False

    def request_stop(self, signum, frame) -> None:
        """RQ's warm shutdown (SIGTERM, SIGINT), noted; RQ's loop flag set too: an idle
        worker's StopRequested is lost when the signal lands in a logging call."""
        self.stop_asked = True
        self._stop_requested = True
        super().request_stop(signum, frame)

    def setup_work_horse_signals(self) -> None:
        """RQ's signals of a work horse, and the horse dies with its worker however that
        ends (killed, crashed): no job runs on as an orphan (issue 14 point 4)."""
        super().setup_work_horse_signals()
        if _PRCTL is not None:  # Linux: SIGKILL when the worker ends (PR_SET_PDEATHSIG = 1)
            _PRCTL(1, signal.SIGKILL)
        if self.pid and os.getppid() != self.pid:  # the worker ended before that
            os._exit(1)

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        # A context per job: the job gets its own session, removed when it ends.
        with self.app.app_context():
            return super().perform_job(job, queue, execution)

    def teardown(self) -> None:
        """RQ's teardown (register the worker's death, unsubscribe), which Redis being away
        must not turn into an exception out of ``work``: the pubsub thread is stopped
        anyway, and the worker's key expires by itself."""
        try:
            super().teardown()
        except CONNECTION_ERRORS as exc:
            log.warning("worker %s: could not register its stop: %s", self.name, exc)
            if self.pubsub_thread is not None:
                self.pubsub_thread.stop()
                self.pubsub_thread.join(timeout=1)
            if self.pubsub is not None:
                self.pubsub.close()


def queues_to_listen_on(app: Flask, queue_names: Sequence[str] = ()) -> list[str]:
    """Return ``queue_names`` without repeats, by default every declared queue; raise
    ``UnknownQueue`` for a queue no plugin declares, or when none is declared."""
    declared = app.extensions["queues_declared"]
    names = list(dict.fromkeys(queue_names)) or list(declared)
    if not names:
        raise UnknownQueue("No plugin declares a queue: there is nothing to listen on.")
    unknown = [name for name in names if name not in declared]
    if unknown:
        raise UnknownQueue(
            f"No plugin declares the queue {', '.join(unknown)}; "
            f"the declared queues are: {', '.join(declared) or 'none'}."
        )
    return names


def own_client(client: redis.Redis) -> redis.Redis:
    """Return a client of ``client``'s server with a connection pool of its own, for RQ.

    RQ waits for a job in one blocking call of up to ``dequeue_timeout`` (405 s) and raises
    its pool's socket timeout to match, which reaches only connections opened afterwards.
    On the app's shared client, whose pooled connections (opened by the periodic tasks)
    kept redis-py's 5-second timeout, that wait failed every 5 s as if Redis were away and
    the worker backed off up to 30 s: an idle worker took new jobs up to half a minute late
    (issue 15, point 4)."""
    pool = client.connection_pool
    kwargs = dict(pool.connection_kwargs)
    return redis.Redis(connection_pool=type(pool)(connection_class=pool.connection_class, **kwargs))


def build_worker(app: Flask, queue_names: Sequence[str] = ()) -> AppWorker:
    """Build a worker for ``app`` over ``queue_names``, by default every declared queue.

    Raises ``UnknownQueue``, and Redis's connection errors (RQ asks Redis for the
    worker's address)."""
    names = queues_to_listen_on(app, queue_names)
    # Configure the ORM's mappers now, in the parent: a work horse forked while another
    # thread (the periodic tasks) held SQLAlchemy's configure lock would wait on it forever.
    configure_mappers()
    client = own_client(app.extensions["redis_connection"].client)
    worker = AppWorker([Queue(name, connection=client) for name in names], connection=client)
    worker.app = app
    dispose_pools_after_fork(app)
    return worker


# Apps whose pools a forked child must drop; weak, so a discarded app is forgotten.
_forking_apps: weakref.WeakSet[Flask] = weakref.WeakSet()
_fork_hook_registered = False


def dispose_pools_after_fork(app: Flask) -> None:
    """Make every later fork of this process drop ``app``'s inherited database pools."""
    global _fork_hook_registered
    if not _fork_hook_registered:
        # Once per process: os.register_at_fork has no way to unregister a hook.
        os.register_at_fork(
            before=FORK_GUARD.acquire,
            after_in_parent=FORK_GUARD.release,
            after_in_child=_after_fork_in_child,
        )
        _fork_hook_registered = True
    _forking_apps.add(app)


def _after_fork_in_child() -> None:
    FORK_GUARD.release()  # taken by this thread just before the fork
    _dispose_inherited_pools()


def _dispose_inherited_pools() -> None:
    for app in list(_forking_apps):
        with app.app_context():
            for engine in db.engines.values():
                # close=False: the parent still owns those connections; just forget them.
                engine.dispose(close=False)


class WorkerFailure(RuntimeError):
    """RQ's work loop stopped on an error that is not a service being away: a bug, a Redis
    key of the wrong type. ``__cause__`` is that error."""


# The longest wait between two tries while Redis or the database is away (seconds).
BACKOFF_MAX = 30


def run_worker(app: Flask, queue_names: Sequence[str] = (), burst: bool = False) -> None:
    """Run ``crmhost worker``: RQ's work loop over ``queue_names`` (default: every declared
    queue), the plugins' periodic tasks and the release of due jobs (``host.scheduling``),
    until SIGTERM/SIGINT (RQ's warm shutdown: the job in hand ends first) or, with
    ``burst``, until the queues are empty.

    Redis or the database away (``CONNECTION_ERRORS``) does not end it: it logs a warning
    and tries again after 1, 2, 4 … up to ``BACKOFF_MAX`` seconds, with a new RQ worker
    (issue 15, point 4). With ``burst``, those errors are raised instead.

    Raises ``UnknownQueue`` (a queue no plugin declares) and ``WorkerFailure`` (the loop
    stopped on any other error)."""
    declared = list(app.extensions["queues_declared"])
    if burst:
        rq_worker = build_worker(app, queue_names)
        PeriodicRunner(app).run_once()
        release_due(rq_worker.connection, declared)
        rq_worker.work(burst=True, with_scheduler=False)
        _raise_loop_error(rq_worker)
        return
    stopping = threading.Event()
    current: list[AppWorker] = []

    def on_signal(signum, frame) -> None:
        stopping.set()
        for built in current:  # its own handlers not installed yet: it stops at once
            built.stop_asked = built._stop_requested = True

    queues_to_listen_on(app, queue_names)  # an undeclared queue fails here, at once
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    periodic = PeriodicRunner(app)
    releaser = DueReleaser(app.extensions["redis_connection"].client, declared)
    periodic.start()
    releaser.start()
    wait = 1.0
    try:
        while not stopping.is_set():
            rq_worker, started = None, time.monotonic()
            try:
                rq_worker = build_worker(app, queue_names)
                current[:] = [rq_worker]
                if stopping.is_set():
                    return
                rq_worker.work(burst=False, with_scheduler=False)
                error = rq_worker.loop_error
            except CONNECTION_ERRORS as exc:
                error = exc
            finally:
                # RQ's handlers belong to the worker whose loop ended.
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, on_signal)
            if stopping.is_set() or (rq_worker is not None and rq_worker.stop_asked):
                return
            if error is None:
                return  # the loop ended as asked
            if not isinstance(error, CONNECTION_ERRORS):
                raise WorkerFailure(f"the work loop stopped: {error!r}") from error
            if rq_worker is not None:
                _wait_for_horse(rq_worker)
            if time.monotonic() - started > BACKOFF_MAX:
                wait = 1.0  # it had worked a while: a new outage
            log.warning("Redis or the database is away (%s): trying again in %g s", error, wait)
            stopping.wait(wait)
            wait = min(wait * 2, BACKOFF_MAX)
    finally:
        periodic.stop()
        releaser.stop()


def _raise_loop_error(rq_worker: AppWorker) -> None:
    error = rq_worker.loop_error
    if error is None:
        return
    if isinstance(error, CONNECTION_ERRORS):
        raise error
    raise WorkerFailure(f"the work loop stopped: {error!r}") from error


def _wait_for_horse(rq_worker: AppWorker) -> None:
    """Let the job in hand (its work horse) end before a new RQ worker takes jobs."""
    pid = rq_worker.horse_pid
    if not pid:
        return
    log.warning("waiting for the job in hand (work horse %s) to end", pid)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass  # already reaped
