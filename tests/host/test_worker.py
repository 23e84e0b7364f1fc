"""``crmhost worker``: a real worker process, on the test database and Redis."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from rq.job import Job, JobStatus
from sqlalchemy import select

from host import hookimpl
from host.extensions import db
from host.models import Company, LegacySmsLog
from host.worker import UnknownQueue, build_worker
from tests.support_worker import (
    DEADLINE,
    child_env,
    crmhost_command,
    fail_on_purpose,
    hold_until_released,
    record_sms,
    run_crmhost,
)


class ExtraQueuePlugin:
    @hookimpl
    def register_queues(self):
        return ["exports", "transactional"]


@pytest.fixture
def shop_id(app):
    with app.app_context():
        shop = Company(name="Garage", country="CA", province="QC")
        db.session.add(shop)
        db.session.commit()
        return shop.id


@pytest.fixture
def worker_env(database_uri, redis_url):
    return child_env(DATABASE_URL=database_uri, REDIS_URL=redis_url)


def queue(app, name):
    return app.extensions["redis_connection"].queue(name)


def test_worker_listens_on_declared_queues(app):
    declared = app.extensions["queues_declared"]
    assert {"transactional", "promotional"} <= set(declared)
    assert build_worker(app).queue_names() == declared


def test_worker_listens_on_every_plugin_queue_once(make_app):
    app = make_app(PLUGINS_EXTRA=[ExtraQueuePlugin()])
    names = build_worker(app).queue_names()
    assert "exports" in names
    assert names.count("transactional") == 1


def test_worker_queue_option_picks_declared_queues(app):
    assert build_worker(app, ["promotional"]).queue_names() == ["promotional"]
    with pytest.raises(UnknownQueue, match="nope"):
        build_worker(app, ["promotional", "nope"])


def test_worker_command_refuses_an_undeclared_queue(runner):
    result = runner.invoke(args=["worker", "--burst", "--queue", "nope"])
    assert result.exit_code == 2
    assert "No plugin declares the queue nope" in result.output
    assert "transactional" in result.output
    assert isinstance(result.exception, SystemExit)


def test_burst_worker_runs_jobs_from_every_queue_in_the_app_context(app, shop_id, worker_env):
    declared = app.extensions["queues_declared"]
    jobs = [queue(app, name).enqueue(record_sms, shop_id, f"via {name}") for name in declared]
    # A job due already waits in the scheduled registry until the scheduler moves it.
    due = datetime.now(UTC) - timedelta(seconds=1)
    jobs.append(queue(app, declared[0]).enqueue_at(due, record_sms, shop_id, "scheduled"))
    assert jobs[-1].get_status() == JobStatus.SCHEDULED

    done = run_crmhost("worker", "--burst", env=worker_env)

    assert done.returncode == 0, done.stdout
    assert f"Listening on {', '.join(declared)}" in done.stdout
    for job in jobs:
        job.refresh()
        assert job.get_status() == JobStatus.FINISHED, (job.id, done.stdout)
    with app.app_context():
        bodies = set(db.session.scalars(select(LegacySmsLog.body)))
        ids = set(db.session.scalars(select(LegacySmsLog.id)))
    assert bodies == {*(f"via {name}" for name in declared), "scheduled"}
    assert {job.return_value() for job in jobs} == ids


def test_burst_worker_with_queue_option_leaves_other_queues(app, shop_id, worker_env):
    kept = queue(app, "transactional").enqueue(record_sms, shop_id, "kept")
    run = queue(app, "promotional").enqueue(record_sms, shop_id, "run")

    done = run_crmhost("worker", "--burst", "--queue", "promotional", env=worker_env)

    assert done.returncode == 0, done.stdout
    assert run.get_status() == JobStatus.FINISHED
    assert kept.get_status() == JobStatus.QUEUED


def test_failed_job_is_recorded_and_the_worker_goes_on(app, shop_id, worker_env):
    failing = queue(app, "transactional").enqueue(fail_on_purpose, shop_id)
    fine = queue(app, "transactional").enqueue(record_sms, shop_id, "fine")

    done = run_crmhost("worker", "--burst", env=worker_env)

    assert done.returncode == 0, done.stdout
    assert failing.get_status() == JobStatus.FAILED
    assert "refused on purpose" in failing.latest_result().exc_string
    assert fine.get_status() == JobStatus.FINISHED


def test_sigterm_lets_the_job_in_hand_finish(app, worker_env, redis_url):
    name = f"hold-{os.getpid()}"
    job = queue(app, "transactional").enqueue(hold_until_released, name)
    redis = app.extensions["redis_connection"].client
    worker = subprocess.Popen(
        crmhost_command("worker"), env=worker_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert redis.blpop([f"{name}:started"], timeout=DEADLINE), "the job never started"
        worker.send_signal(signal.SIGTERM)
        # Released only after the signal: the job is in hand when the worker is told to stop.
        redis.rpush(f"{name}:release", "go")
        output, _ = worker.communicate(timeout=DEADLINE)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, output
    assert redis.lrange(f"{name}:finished", 0, -1), output
    assert Job.fetch(job.id, connection=redis).get_status() == JobStatus.FINISHED
    assert b"warm shut down requested" in output


def test_a_forked_work_horse_drops_the_parents_database_connections(app):
    build_worker(app)
    with app.app_context():
        db.session.execute(select(1))  # the parent now holds a pooled connection
        db.session.remove()
        parent_pool = db.engine.pool
        assert parent_pool.checkedin() == 1
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it inherited, then leave without cleanup
        try:
            with app.app_context():
                fresh = db.engine.pool is not parent_pool and db.engine.pool.checkedin() == 0
            os.write(write_end, b"fresh" if fresh else b"shared")
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        assert answer.read() == b"fresh"
    os.waitpid(pid, 0)
    assert parent_pool.checkedin() == 1  # the parent's connection was left alone


def test_worker_says_so_when_redis_is_unreachable(worker_env):
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{closed.getsockname()[1]}/0"
        done = run_crmhost("worker", "--burst", env={**worker_env, "REDIS_URL": url})
    assert done.returncode == 1
    assert "Error: Cannot reach Redis" in done.stdout
    assert "Traceback" not in done.stdout


FRESH_WORKER = """
from sqlalchemy import inspect
from host.app import create_app
from host.extensions import db
from host.worker import build_worker

app = create_app({"SQLALCHEMY_DATABASE_URI": DATABASE, "REDIS_URL": REDIS})
mappers = list(db.Model.registry.mappers)
before = sum(not m.configured for m in mappers)
build_worker(app)
after = sum(not m.configured for m in mappers)
print(before, after)
"""


def test_the_worker_configures_the_orm_before_it_forks(database_uri, redis_url):
    """A horse forked while the periodic tasks' thread held SQLAlchemy's configure lock
    would wait on it forever: the worker configures every mapper before any fork."""
    code = f"DATABASE, REDIS = {database_uri!r}, {redis_url!r}\n" + FRESH_WORKER
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    before, after = map(int, result.stdout.split()[-2:])
    assert before > 0  # a new process starts with them unconfigured
    assert after == 0


def test_a_sqlite_database_is_shared_in_write_ahead_log_mode(app):
    """Web processes and workers read a SQLite file while one of them writes."""
    from sqlalchemy import text

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("WAL is SQLite's; PostgreSQL readers never wait on writers")
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_an_idle_workers_stop_holds_even_when_a_logging_call_swallows_it(app):
    # SIGTERM landing in a log call of the idle loop: RQ's StopRequested is caught by
    # logging's emit, and the worker went back to a blocking dequeue instead of stopping.
    from rq.exceptions import StopRequested

    worker = build_worker(app)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:  # RQ's handler moves both signals to its cold shutdown: this process's are restored
        with pytest.raises(StopRequested):
            worker.request_stop(signal.SIGTERM, None)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert worker._stop_requested and worker.stop_asked
