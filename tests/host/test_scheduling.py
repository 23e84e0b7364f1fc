"""Jobs due later put on their queue by Redis's clock, one worker of the cluster at a time
(``host/scheduling.py``): issue 15, "A killed worker that held RQ's scheduler lock delays
every scheduled send 10–15 minutes"."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis as redis_lib
import time_machine
from rq import Queue
from rq.job import JobStatus
from rq.registry import ScheduledJobRegistry

from host.clock import redis_time
from host.redis_connection import get_redis
from host.scheduling import RELEASE_LOCK, DueReleaser, release_due
from tests.support_pipeline import wait_for

QUEUES = ["transactional", "promotional"]


def note_run(key: str) -> None:
    """A job: note which worker ran it (the horse's parent) and when, by Redis's clock."""
    redis = get_redis()
    seconds, micros = redis.time()
    redis.rpush(key, f"{os.getppid()} {seconds}.{micros:06d}")


@pytest.fixture
def redis(app):
    return app.extensions["redis_connection"].client


def queued_ids(redis, name: str) -> list[str]:
    return Queue(name, connection=redis).get_job_ids()


def test_a_due_job_is_released_and_a_later_one_waits(redis):
    now = redis_time(redis)
    queue = Queue("transactional", connection=redis)
    due = queue.enqueue_at(now - timedelta(seconds=1), note_run, "due")
    later = queue.enqueue_at(now + timedelta(hours=1), note_run, "later")

    assert release_due(redis, QUEUES) == 1

    assert queued_ids(redis, "transactional") == [due.id]
    assert due.get_status() == JobStatus.QUEUED
    assert later.get_status() == JobStatus.SCHEDULED
    assert ScheduledJobRegistry(queue=queue).get_job_ids() == [later.id]
    assert release_due(redis, QUEUES) == 0  # released once only
    assert queued_ids(redis, "transactional") == [due.id]


def test_due_is_judged_by_redis_s_clock_not_the_process_s(redis):
    queue = Queue("promotional", connection=redis)
    soon = queue.enqueue_at(redis_time(redis) + timedelta(seconds=60), note_run, "soon")
    # This process's clock runs two minutes fast (time_machine leaves Redis's alone).
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=True):
        assert datetime.now(UTC) > redis_time(redis) + timedelta(seconds=60)
        assert release_due(redis, QUEUES) == 0
    assert soon.get_status() == JobStatus.SCHEDULED


def test_an_entry_whose_job_is_gone_is_dropped(redis):
    queue = Queue("transactional", connection=redis)
    gone = queue.enqueue_at(redis_time(redis) - timedelta(seconds=1), note_run, "gone")
    gone.delete(remove_from_queue=False)
    registry = ScheduledJobRegistry(queue=queue)
    redis.zadd(registry.key, {gone.id: 1})  # an entry left behind

    assert release_due(redis, QUEUES) == 0
    assert registry.get_job_ids() == []
    assert queued_ids(redis, "transactional") == []


def test_two_releasers_at_once_put_each_job_on_its_queue_once(redis):
    queue = Queue("transactional", connection=redis)
    past = redis_time(redis) - timedelta(seconds=1)
    jobs = [queue.enqueue_at(past, note_run, f"job-{i}") for i in range(200)]
    start = threading.Barrier(4)
    counts: list[int] = []

    def release() -> None:
        client = redis.__class__(connection_pool=redis.connection_pool)
        start.wait()
        counts.append(release_due(client, QUEUES))

    threads = [threading.Thread(target=release) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == 200
    assert sorted(queued_ids(redis, "transactional")) == sorted(job.id for job in jobs)


def test_one_releaser_of_the_cluster_holds_the_lock_and_hands_it_on(redis):
    first, second = DueReleaser(redis, QUEUES), DueReleaser(redis, QUEUES)
    assert first.run_once() == 0
    assert second.run_once() is None  # the first one holds it
    assert redis.get(RELEASE_LOCK).decode() == first.token
    assert str(os.getpid()) in first.token  # who holds it, for people looking
    first.stop()  # hands it on at once
    assert second.run_once() == 0


def test_a_holder_that_stops_renewing_loses_the_lock_within_its_life(redis):
    dead = DueReleaser(redis, QUEUES, lock_ms=300)
    dead.run_once()
    taken_at = time.monotonic()
    other = DueReleaser(redis, QUEUES)
    wait_for(lambda: other.run_once() is not None, what="the lock to expire")
    assert time.monotonic() - taken_at < 5


def test_the_releasing_thread_goes_on_while_redis_is_away(redis, caplog):
    class Away:
        def register_script(self, script):
            def fail(**kwargs):
                raise redis_lib.exceptions.ConnectionError("Redis is away")

            return fail

    releaser = DueReleaser(Away(), QUEUES, every=0.01)  # type: ignore[arg-type]
    releaser.start()
    wait_for(lambda: "cannot release due jobs" in caplog.text, what="the warning")
    assert releaser._thread is not None and releaser._thread.is_alive()
    releaser.stop()
    assert caplog.text.count("cannot release due jobs") == 1  # once, not every round


def redis_seconds(redis) -> float:
    seconds, micros = redis.time()
    return seconds + micros / 1e6


def test_a_worker_killed_holding_the_lock_delays_nothing(app, redis, workers):
    """Two real workers; the one holding the release lock is killed -9; a job due 2 s later
    still runs, by the other, within 2 s of its time."""
    pool = workers()
    processes = [pool.start(), pool.start()]
    wait_for(
        lambda: len({p.decode() for p in redis.smembers("rq:workers")}) == 2,
        what="both workers up",
        state=lambda: redis.smembers("rq:workers"),
    )
    holder_token = wait_for(lambda: redis.get(RELEASE_LOCK), what="a holder of the lock")
    holder = next(p for p in processes if f":{p.pid}:" in holder_token.decode())
    survivor = next(p for p in processes if p is not holder)

    pool.kill(holder)
    due = int(redis_seconds(redis)) + 2
    Queue("transactional", connection=redis).enqueue_at(
        datetime.fromtimestamp(due, UTC), note_run, "after-the-kill"
    )

    ran = wait_for(lambda: redis.lrange("after-the-kill", 0, -1), what="the job to run")
    pid, at = ran[0].decode().split()
    assert int(pid) == survivor.pid
    assert due <= float(at) <= due + 2, (due, at)
    assert f":{survivor.pid}:" in redis.get(RELEASE_LOCK).decode()
