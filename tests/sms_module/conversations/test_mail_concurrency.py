"""At most ``SMS_MAIL_CONCURRENCY`` mail jobs are queued or running at once on the platform
(RQ's own ``RateLimit``): however many forwards wait, a silent SMTP server holds at most that
many workers that also serve the SMS queues (issue 15, point 5; the chaos suite measured
every SMS one SMTP timeout late when all three workers had taken a forward)."""

from __future__ import annotations

from rq import SimpleWorker
from rq.job import Job
from rq.rate_limit import RateLimitRegistry

from host.redis_connection import get_queue, get_redis
from plugins.sms_module.conversations import forwarding, mail_jobs
from tests.support_pipeline import in_process_app


def test_mail_jobs_wait_their_turn_one_at_a_time_and_all_run(make_app, redis_url):
    app = in_process_app(make_app)
    with app.app_context():
        assert app.config["SMS_MAIL_CONCURRENCY"] == 1
        for reply_id in (101, 102, 103):  # no such replies: each job finds nothing to do
            forwarding.enqueue_forward(reply_id)
        queue = get_queue(mail_jobs.MAIL_QUEUE)
        registry = RateLimitRegistry("sms-mail", connection=get_redis())
        assert queue.count == 1  # one on the queue…
        assert registry.get_rate_limited_job_count() == 2  # …the others wait their turn
        SimpleWorker([queue], connection=get_redis()).work(burst=True, with_scheduler=False)
        for reply_id in (101, 102, 103):
            job = Job.fetch(forwarding.forward_job_id(reply_id), connection=get_redis())
            assert job.get_status() == "finished"  # each ran once its turn came
        assert registry.get_rate_limited_job_count() == 0
        assert registry.get_allowed_job_count() == 0  # every slot given back
