"""The RQ worker: listens on the queues plugins declare and runs each job in the app context.

The application is built once, by the worker process. RQ forks a work horse per
job; the horse must not reuse the database connections pooled by its parent, so
every fork drops the inherited pools (SQLAlchemy's ``dispose(close=False)``
pattern) and the job opens fresh connections of its own.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Sequence

from flask import Flask
from rq import Queue, Worker
from rq.executions import Execution
from rq.job import Job
from sqlalchemy.orm import configure_mappers

from host.extensions import db


class UnknownQueue(ValueError):
    """A queue was asked for that no plugin declares."""


class AppWorker(Worker):
    """An RQ worker that runs each job inside a fresh context of one Flask app."""

    app: Flask

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        # A context per job: the job gets its own session, removed when it ends.
        with self.app.app_context():
            return super().perform_job(job, queue, execution)


def build_worker(app: Flask, queue_names: Sequence[str] = ()) -> AppWorker:
    """Build a worker for ``app`` over ``queue_names``, by default every declared queue."""
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
    # Configure the ORM's mappers now, in the parent: a work horse forked while another
    # thread (the periodic tasks) held SQLAlchemy's configure lock would wait on it forever.
    configure_mappers()
    connection = app.extensions["redis_connection"]
    worker = AppWorker([connection.queue(name) for name in names], connection=connection.client)
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
        os.register_at_fork(after_in_child=_dispose_inherited_pools)
        _fork_hook_registered = True
    _forking_apps.add(app)


def _dispose_inherited_pools() -> None:
    for app in list(_forking_apps):
        with app.app_context():
            for engine in db.engines.values():
                # close=False: the parent still owns those connections; just forget them.
                engine.dispose(close=False)


log = logging.getLogger(__name__)


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
                with self.app.app_context():
                    task.function()
                ran.append(task.name)
            except Exception:
                log.exception("periodic task %s failed", task.name)
        return ran

    def start(self) -> None:
        """Run the tasks in a daemon thread until ``stop``."""
        if not self.tasks:
            return
        interval = min(task.every_seconds for task in self.tasks)
        self._thread = threading.Thread(target=self._loop, args=(interval,), daemon=True)
        self._thread.start()

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.run_once()
            except Exception:  # Redis away for a moment: try again next round
                log.exception("periodic tasks could not run")

    def stop(self) -> None:
        self._stop.set()
