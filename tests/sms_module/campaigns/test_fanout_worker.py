"""A campaign's fan-out in real ``crmhost worker`` processes (issue 14 point 4): it starts at
once whatever the backlog of sends (a queue of its own, served first), and a worker that
dies takes its work horse with it: no fan-out goes on as an orphan.

A worker is another process, whose clock ``time_machine`` cannot set: these tests give
both processes no quiet hours (start = end) instead, as ``test_control_e2e`` does.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import psutil
import pytest
from rq.job import Job

from host.extensions import db
from host.redis_connection import get_queue, get_redis
from plugins.sms_module import campaigns
from plugins.sms_module.models import SmsCampaign
from tests.sms_module.campaigns.support import add_customer, new_campaign
from tests.support_pipeline import in_process_app, wait_for
from tests.support_sms import module_on
from tests.support_worker import child_env, record_sms, run_crmhost

NO_QUIET_HOURS = {"SMS_QUIET_START_HOUR": 0, "SMS_QUIET_END_HOUR": 0}
BACKLOG = 30


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app, **NO_QUIET_HOURS)


def test_workers_serve_the_fan_outs_queue_before_the_send_queues(app):
    declared = app.extensions["queues_declared"]
    assert declared[0] == campaigns.QUEUE == "campaigns"
    assert declared.index("campaigns") < declared.index("transactional")
    assert declared.index("campaigns") < declared.index("promotional")


def test_a_new_campaign_does_not_wait_behind_a_backlog_of_send_jobs(
    app, shops, database_uri, redis_url
):
    with app.app_context():
        a = shops["a"]["shop"]
        module_on(a)
        for n in range(3):
            add_customer(a, f"C{n}", f"+1514555070{n}")
        promotional = get_queue("promotional")
        backlog = [promotional.enqueue(record_sms, a, f"earlier {n}") for n in range(BACKLOG)]
        cid = new_campaign(a)
        fan_out = campaigns.enqueue(cid)  # confirmed after the backlog was queued
        assert fan_out.origin == "campaigns"
    env = child_env(DATABASE_URL=database_uri, REDIS_URL=redis_url, SMS_PROVIDER="simulator")
    env.update({f"CRMHOST_{k}": str(v) for k, v in NO_QUIET_HOURS.items()})
    env["CRMHOST_SMS_SIMULATOR_CALLBACK_DELAY"] = "null"
    done = run_crmhost("worker", "--burst", env=env)
    assert done.returncode == 0, done.stdout
    with app.app_context():
        fan_out.refresh()
        assert fan_out.return_value().startswith("prepared: 4 recipient(s)")
        started = [Job.fetch(job.id, connection=get_redis()).started_at for job in backlog]
        # The fan-out went first: no earlier send job started before it.
        assert all(fan_out.started_at <= when for when in started)
        assert db.session.get(SmsCampaign, cid).prepared_at is not None


def keep_working(name: str) -> str:
    """A job that goes on working (as a long fan-out writes chunk after chunk) until the
    test releases it, saying it is alive every 50 ms."""
    redis = get_redis()
    redis.rpush(f"{name}:started", os.getpid())
    pause = threading.Event()
    end = time.monotonic() + 120
    while not redis.exists(f"{name}:release") and time.monotonic() < end:
        redis.incr(f"{name}:alive")
        pause.wait(0.05)
    redis.rpush(f"{name}:finished", os.getpid())
    return "finished"


def test_a_killed_worker_takes_its_work_horse_with_it(app, workers):
    name = f"orphan-{uuid.uuid4().hex[:8]}"
    pool = workers(**NO_QUIET_HOURS)
    with app.app_context():
        redis = get_redis()
        get_queue(campaigns.QUEUE).enqueue(keep_working, name, job_timeout=120)
        worker = pool.start()
        started = wait_for(lambda: redis.lindex(f"{name}:started", 0), what="the job started")
        horse = psutil.Process(int(started))
        assert horse.ppid() == worker.pid  # RQ's work horse, a child of the worker
        os.kill(worker.pid, signal.SIGKILL)  # the worker alone, as a crash or the OOM killer
        worker.wait(timeout=60)
        pool.running.remove(worker)
        gone, alive = psutil.wait_procs([horse], timeout=30)
        for left in alive:
            left.kill()  # do not leave it to the other tests
        assert gone and not alive, "the work horse outlived its worker"
        assert redis.llen(f"{name}:finished") == 0  # it did not go on with the job
        redis.set(f"{name}:release", 1)
