"""A send job's help with its queue's backlog: due messages sent in one job, a full number
passed over, phone order kept, never a message before its time."""

import pytest
from sqlalchemy import select, update

from host.extensions import db
from host.redis_connection import get_redis
from plugins.sms_module import jobs
from plugins.sms_module.models import SenderNumber, SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import outbox, send_job, service
from tests.support_pipeline import accepted_message, carrier, in_process_app, message
from tests.support_sms import ready_to_send

# The backlog run of the tests that wait for one more send in it: long enough for that send
# on a busy machine (0.3 s ended before it once).
ONE_MORE_SEND_SECONDS = 1.0


@pytest.fixture
def app(make_app, redis_url):
    """No simulator reports here: they are posted by tests that run a web server."""
    # One message per job here; sending a backlog in one job has its own test.
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


def sent_on_a_slow_number(shops) -> tuple[int, str]:
    """Send a first message, then slow its number to 1 segment/s: it stays full for about a
    second. Return the message's id and the number."""
    first = accepted_message(shops, body="first")
    assert jobs.send_message(first) == "sent"
    number = message(first).sender_number
    db.session.execute(update(SenderNumber).where(SenderNumber.number == number).values(rate=1))
    db.session.commit()
    return first, number


def test_one_job_sends_the_queue_backlog_and_takes_its_jobs_off_the_queue(app, shops):
    from host.redis_connection import get_queue

    def send_jobs() -> int:
        return sum(j.func_name == outbox.SEND_FUNCTION for j in get_queue("transactional").jobs)

    app.config["SMS_BATCH_SECONDS"] = 5
    with app.app_context():
        ids = [accepted_message(shops, body=f"m{i}") for i in range(4)]
        assert send_jobs() == 4
        assert jobs.send_message(ids[0]) == "sent"
        assert {message(i).status for i in ids} == {Status.SENT}
        assert carrier(app).sent_count() == 4
        # The three other jobs left the queue: no worker forks for them.
        assert send_jobs() == 1  # the first one's own, which a worker would have taken


def test_the_backlog_takes_due_messages_whose_jobs_rq_scheduled(app, shops):
    """A job RQ's scheduler moves to the queue leaves its message Scheduled: a backlog run
    sends those too, and their scheduled jobs go, so no worker forks for them later."""
    from datetime import timedelta

    from host.models import utcnow
    from host.redis_connection import get_queue

    app.config["SMS_BATCH_SECONDS"] = 5
    with app.app_context():
        company, customer = ready_to_send(shops)
        later = utcnow() + timedelta(minutes=5)
        ids = [
            service.request_send(company, customer=customer, body=f"m{i}", send_at=later).id
            for i in range(4)
        ]
        assert {message(i).status for i in ids} == {Status.SCHEDULED}
        scheduled = [outbox.live_job(i) for i in ids]
        assert all(job.get_status() == "scheduled" for job in scheduled)
        # Their time comes (the scheduler has not moved the jobs yet).
        db.session.execute(
            update(SmsMessage).where(SmsMessage.id.in_(ids)).values(send_at=utcnow())
        )
        db.session.commit()
        assert jobs.send_message(ids[0]) == "sent"
        assert {message(i).status for i in ids} == {Status.SENT}
        assert carrier(app).sent_count() == 4
        registry = get_queue("transactional").scheduled_job_registry
        left = set(registry.get_job_ids())
        assert not left & {job.id for job in scheduled[1:]}


def test_the_backlog_passes_over_a_full_number_for_one_with_room(app, shops):
    """Two phones on two numbers; the first number is full: the backlog run sends the
    second phone's messages at once instead of waiting behind the first."""
    app.config["SMS_BATCH_SECONDS"] = 0.5
    with app.app_context():
        first, number = sent_on_a_slow_number(shops)
        stuck = accepted_message(shops, body="waits for its number")
        other_phone = [
            accepted_message(shops, phone="+15145550177", body=f"o{i}") for i in range(3)
        ]
        # The first phone's number sent a second ago at most: it is full for a while.
        assert jobs.send_message(other_phone[0]) == "sent"
        senders = {message(i).sender_number for i in other_phone}
        assert {message(i).status for i in other_phone} == {Status.SENT}
        assert senders and number not in senders
        assert message(stuck).status == Status.QUEUED  # left for its number, job still there
        assert outbox.live_job(stuck) is not None


def test_a_number_with_room_for_one_segment_takes_a_short_message_but_keeps_phone_order(app, shops):
    """The number has room for 1 segment: a 3-segment message waits, the same phone's next
    message waits behind it, and another phone's 1-segment message on that number goes."""
    from host.models import Company
    from plugins.sms_module.models import Conversation, Queue
    from plugins.sms_module.sending.rate import SenderRate

    app.config["SMS_BATCH_SECONDS"] = ONE_MORE_SEND_SECONDS
    with app.app_context():
        first = accepted_message(shops, body="first")
        assert jobs.send_message(first) == "sent"
        number = db.session.scalar(
            select(SenderNumber).where(SenderNumber.number == message(first).sender_number)
        )
        number.rate = 3
        db.session.commit()
        big = accepted_message(shops, body="Long " * 80)  # 400 characters: 3 segments
        small = accepted_message(shops, body="Short")
        assert message(big).segments == 3
        other = accepted_message(shops, phone="+15145550177", body="Other phone")
        # The other phone hears from the same number too.
        company = db.session.get(Company, shops["a"]["shop"])
        db.session.add(
            Conversation(
                company_id=company.id,
                phone="+15145550177",
                queue=Queue.TRANSACTIONAL,
                sender_number_id=number.id,
            )
        )
        db.session.commit()
        limiter = SenderRate(get_redis(), app.config["SMS_RATE_MARGIN_SECONDS"])
        limiter.reset(number.number)
        assert limiter.reserve(number.number, 2, 3, max_wait=0).granted  # room left: 1

        assert send_job.send_backlog(big, app.config) == 1
        assert message(other).status == Status.SENT
        assert message(other).sender_number == number.number
        assert message(big).status == Status.QUEUED
        assert message(small).status == Status.QUEUED  # not ahead of its phone's big one


def test_a_backlog_run_never_sends_a_message_before_its_time(app, shops):
    from datetime import timedelta

    from host.models import utcnow

    app.config["SMS_BATCH_SECONDS"] = 0.2
    with app.app_context():
        company, customer = ready_to_send(shops)
        later = utcnow() + timedelta(minutes=5)
        mid = service.request_send(company, customer=customer, body="soon", send_at=later).id
        # Due in a moment, less than the clock skew a job's own start may have.
        db.session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == mid)
            .values(send_at=utcnow() + timedelta(milliseconds=95))
        )
        db.session.commit()
        assert send_job.send_backlog(mid, app.config) == 0
        assert message(mid).status == Status.SCHEDULED
        assert carrier(app).sent_count() == 0


def test_a_backlog_run_gives_back_the_slot_of_a_message_it_did_not_send(app, shops):
    """The run books a slot before the message's checks; a message another worker holds
    gives its slot back, so the number's log holds exactly the sends."""
    from plugins.sms_module.sending.rate import SenderRate

    app.config["SMS_BATCH_SECONDS"] = ONE_MORE_SEND_SECONDS
    with app.app_context():
        first = accepted_message(shops, body="first")
        assert jobs.send_message(first) == "sent"
        number = message(first).sender_number
        limiter = SenderRate(get_redis(), app.config["SMS_RATE_MARGIN_SECONDS"])
        limiter.reset(number)
        held, free = (accepted_message(shops, body=b) for b in ("held", "free"))
        get_redis().set(outbox.lease_key(held), 1, ex=30)  # another worker is on it
        assert send_job.send_backlog(first, app.config) == 1
        assert message(free).status == Status.SENT
        assert message(held).status == Status.QUEUED
        assert len(limiter.log(number)) == 1


def test_a_message_sent_since_the_run_read_the_queue_is_passed_over_without_its_row(
    app, shops, monkeypatch
):
    """A backlog run works from one reading of the queue for ``REFRESH_SECONDS``; a message
    another worker sent meanwhile keeps its lease key for the lease's TTL, so the run passes
    it over with one round trip to Redis, never running its send (a locked read, a commit)."""
    from plugins.sms_module.sending import backlog
    from plugins.sms_module.sending.lease import DONE, Lease

    app.config["SMS_BATCH_SECONDS"] = ONE_MORE_SEND_SECONDS
    with app.app_context():
        first = accepted_message(shops, body="first")
        assert jobs.send_message(first) == "sent"
        gone, waiting = (accepted_message(shops, body=b) for b in ("sent elsewhere", "waiting"))
        read = backlog.due_messages

        def read_then_another_worker_sends(queue, full):
            rows = read(queue, full)
            if gone in [row[0] for row in rows]:  # another worker sends it just after
                other = Lease(get_redis(), outbox.lease_key(gone), 3)
                assert other.acquire()
                db.session.execute(
                    update(SmsMessage).where(SmsMessage.id == gone).values(status=Status.SENT)
                )
                db.session.commit()
                other.release(linger=True)
            return rows

        monkeypatch.setattr(backlog, "due_messages", read_then_another_worker_sends)
        tried = []
        send = send_job.send_leased

        def spy(message_id, *args, **kwargs):
            tried.append(message_id)
            return send(message_id, *args, **kwargs)

        assert backlog.run(first, app.config, spy) == 1
        assert tried == [waiting]
        assert message(waiting).status == Status.SENT
        assert get_redis().get(outbox.lease_key(gone)) == DONE.encode()
        assert carrier(app).sent_count() == 2  # the first, and the waiting one


def test_a_sent_message_keeps_its_lease_key_until_the_ttl_and_a_late_job_does_nothing(app, shops):
    with app.app_context():
        mid = accepted_message(shops, body="once")
        assert jobs.send_message(mid) == "sent"
        key = outbox.lease_key(mid)
        ttl_ms = get_redis().pttl(key)
        assert 0 < ttl_ms <= app.config["SMS_LEASE_TTL_SECONDS"] * 1000
        assert jobs.send_message(mid) == "nothing to do"  # the job a worker took meanwhile
        assert carrier(app).sent_count() == 1


def test_a_message_put_on_the_queue_makes_a_backlog_run_read_it_again_at_once(
    app, shops, monkeypatch
):
    """Within ``REFRESH_SECONDS`` a run works from what it read, unless a message was put
    on the queue since (``outbox.due_count_key``): a shop's new message is not left behind
    a stale reading."""
    from plugins.sms_module.sending import backlog

    monkeypatch.setattr(backlog, "REFRESH_SECONDS", 3600)  # only the counter can tell
    app.config["SMS_BATCH_SECONDS"] = 2
    with app.app_context():
        first, _number = sent_on_a_slow_number(shops)
        waiting = accepted_message(shops, body="waits for its number")
        read = backlog.due_messages
        readings: list[list[int]] = []
        newcomer: list[int] = []

        def reading(queue, full):
            rows = read(queue, full)
            readings.append([row[0] for row in rows])
            if len(readings) == 1:  # a shop's new message, to another phone, once read
                newcomer.append(accepted_message(shops, phone="+15145550177", body="new"))
            return rows

        monkeypatch.setattr(backlog, "due_messages", reading)
        assert backlog.run(first, app.config, send_job.send_leased) >= 1
        assert readings[0] == [waiting]
        # Read again while the first message still waits for its number: not after it.
        assert set(readings[1]) == {waiting, newcomer[0]}
        assert message(newcomer[0]).status == Status.SENT
