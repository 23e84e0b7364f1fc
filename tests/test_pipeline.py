"""The send job, the sweeper and the delivery reports, run in-process on a real Redis."""

import pytest
from sqlalchemy import select, update

from host.extensions import db
from host.redis_connection import get_redis
from plugins.sms_module import jobs
from plugins.sms_module.carriers.simulator import SimulatorCarrier
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import SenderNumber, SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import outbox as pipeline
from plugins.sms_module.sending import send_job, service
from tests.support_pipeline import accepted_message, in_process_app, message, post_report
from tests.support_sms import ready_to_send


@pytest.fixture
def app(make_app, redis_url):
    """No simulator reports here: they are posted by tests that run a web server."""
    # One message per job here; sending a backlog in one job has its own test.
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


def carrier(app) -> SimulatorCarrier:
    return SimulatorCarrier.from_config(app.config)


def history(m: SmsMessage) -> list[str]:
    return [h.status.value for h in m.history]


def test_accepted_message_is_queued_then_sent_from_a_pool_number(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        assert message(mid).status == Status.QUEUED  # on its queue at once: it is due
        assert pipeline.live_job(mid) is not None
        assert jobs.send_message(mid) == "sent"
        m = message(mid)
        assert m.status == Status.SENT and m.provider_sid.startswith("SM")
        assert history(m) == ["accepted", "scheduled", "queued", "sending", "sent"]
        assert m.sender_number == "+14386013562" and m.attempts == 1
        assert carrier(app).fetch(m.provider_sid).to == m.phone
        # The job is idempotent: running it again sends nothing more.
        assert jobs.send_message(mid) == "nothing to do"
        assert carrier(app).sent_count() == 1


def test_a_phone_keeps_its_number(app, shops):
    with app.app_context():
        first = accepted_message(shops)
        jobs.send_message(first)
        second = accepted_message(shops, body="Rappel")
        jobs.send_message(second)
        assert message(first).sender_number == message(second).sender_number


def test_reports_move_forward_only_and_need_a_signature(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        jobs.send_message(mid)
        sid = message(mid).provider_sid
    client = app.test_client()
    assert post_report(client, app, mid, sid, "delivered").status_code == 200
    assert post_report(client, app, mid, sid, "sent").status_code == 200  # late: ignored
    assert post_report(client, app, mid, sid, "delivered").status_code == 200  # duplicate
    assert post_report(client, app, mid, sid, "failed", token="wrong").status_code == 403
    unsigned = client.post(
        f"/sms/twilio/status?message_id={mid}", data={"MessageSid": sid, "MessageStatus": "failed"}
    )
    assert unsigned.status_code == 403
    assert post_report(client, app, 0, "SMunknown", "delivered").status_code == 200
    with app.app_context():
        m = message(mid)
        assert m.status == Status.DELIVERED
        assert history(m)[-1] == "delivered" and history(m).count("delivered") == 1
        assert m.history[-1].source == "provider_callback"


def test_a_report_overtaking_our_sid_finds_the_message_by_id(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
    client = app.test_client()
    assert post_report(client, app, mid, "SMearly", "delivered").status_code == 200
    with app.app_context():
        m = message(mid)
        assert (m.status, m.provider_sid) == (Status.DELIVERED, "SMearly")


def test_undelivered_report_keeps_the_error_and_21610_opts_out(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        jobs.send_message(mid)
        m = message(mid)
        sid, phone = m.provider_sid, m.phone
    post_report(app.test_client(), app, mid, sid, "undelivered", ErrorCode="21610")
    with app.app_context():
        m = message(mid)
        assert (m.status, m.failure_code) == (Status.UNDELIVERED, "21610")
        assert opt_out.is_opted_out(phone)


def test_carrier_refusal_21610_fails_and_opts_the_phone_out(app, shops):
    with app.app_context():
        mid = accepted_message(shops, phone="+15145550610")
        assert jobs.send_message(mid) == "failed: 21610"
        m = message(mid)
        assert m.status == Status.FAILED and m.failure_code == "21610" and m.attempts == 1
        assert opt_out.is_opted_out("+15145550610")
        assert [e.source for e in opt_out.events("+15145550610")] == ["provider_error"]


def test_transient_errors_are_retried_then_fail_each_attempt_charged(app, shops):
    with app.app_context():
        mid = accepted_message(shops, phone="+15145550503")
        outcomes = [jobs.send_message(mid) for _ in range(app.config["SMS_MAX_ATTEMPTS"])]
        assert outcomes == ["retry"] * (app.config["SMS_MAX_ATTEMPTS"] - 1) + [
            "failed: carrier_error"
        ]
        m = message(mid)
        assert m.status == Status.FAILED and m.attempts == app.config["SMS_MAX_ATTEMPTS"]
        assert m.cost == m.price * app.config["SMS_MAX_ATTEMPTS"]
        assert carrier(app).sent_count() == 0


def test_timeout_after_the_carrier_took_it_is_not_sent_twice(app, shops):
    with app.app_context():
        mid = accepted_message(shops, phone="+15145550408")
        assert jobs.send_message(mid) == "retry"
        assert message(mid).status == Status.SENDING
        # The retry asks the carrier first and finds the message it already took.
        assert jobs.send_message(mid) == "reconciled"
        m = message(mid)
        assert m.status == Status.SENT and carrier(app).sent_count() == 1
        assert m.history[-1].source == "reconciliation"


def test_a_message_stays_with_the_worker_holding_it(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        get_redis().set(f"sms:sending:{mid}", 1, ex=30)
        assert jobs.send_message(mid) == "another worker holds it"
        assert carrier(app).sent_count() == 0


def test_checks_run_again_just_before_the_carrier(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        opt_out.opt_out(message(mid).phone, "sms_keyword", None, "STOP")
        db.session.commit()
        assert jobs.send_message(mid) == "refused: opted_out"
        m = message(mid)
        assert (m.status, m.failure_code, m.attempts) == (Status.FAILED, "opted_out", 0)
        assert carrier(app).sent_count() == 0


def test_sweeper_recovers_messages_after_redis_is_emptied(app, shops):
    with app.app_context():
        app.config["SMS_SWEEP_GRACE_SECONDS"] = 0
        ids = [accepted_message(shops, body=f"m{i}") for i in range(3)]
        get_redis().flushdb()  # every job is gone
        assert all(pipeline.live_job(i) is None for i in ids)
        assert pipeline.sweep() == 3
        assert pipeline.sweep() == 0  # nothing enqueued twice
        for i in ids:
            assert jobs.send_message(i) == "sent"
        assert carrier(app).sent_count() == 3


def test_sweeper_resumes_a_message_left_in_sending(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        m = message(mid)
        from datetime import timedelta

        from host.models import utcnow
        from plugins.sms_module.models import lifecycle

        lifecycle.move(m, Status.SENDING, "module")
        m.sender_number = "+14386013562"
        # Its worker died longer ago than a lease lasts.
        m.updated_at = utcnow() - timedelta(seconds=app.config["SMS_SEND_LEASE_SECONDS"] + 1)
        db.session.commit()
        get_redis().flushdb()
        assert pipeline.sweep() == 1
        assert jobs.send_message(mid) == "sent"
        assert carrier(app).sent_count() == 1


def test_future_message_waits_for_its_time(app, shops):
    from datetime import UTC, datetime, timedelta

    from host.models import Company, Customer
    from plugins.sms_module.sending import service

    with app.app_context():
        accepted_message(shops)  # makes shop A ready
        company = db.session.get(Company, shops["a"]["shop"])
        customer = db.session.get(Customer, shops["a"]["customer"])
        later = service.request_send(
            company,
            customer=customer,
            body="Rappel",
            send_at=datetime.now(UTC) + timedelta(hours=2),
        )
        assert message(later.id).status == Status.SCHEDULED
        job = pipeline.live_job(later.id)
        assert job is not None and job.get_status() == "scheduled"
        assert jobs.send_message(later.id) == "not due yet"
        assert message(later.id).status == Status.SCHEDULED
        assert pipeline.sweep() == 0  # not due: the sweeper leaves it


def test_unknown_message_id_is_nothing_to_do(app):
    with app.app_context():
        assert jobs.send_message(424242) == "nothing to do"
        assert db.session.scalar(select(SmsMessage)) is None


def test_a_busy_number_frees_the_worker_and_comes_back_later(app, shops):
    with app.app_context():
        db.session.execute(update(SenderNumber).values(rate=1))
        db.session.commit()
        first = accepted_message(shops)
        second = accepted_message(shops, body="Rappel")
        assert jobs.send_message(first) == "sent"
        # 1 segment a second: the second message waits for the number without a worker.
        assert jobs.send_message(second) == "waiting for the sender number"
        assert message(second).status == Status.QUEUED
        job = pipeline.live_job(second)
        assert job is not None and job.get_status() == "scheduled"


def test_one_job_sends_the_queue_backlog_and_takes_its_jobs_off_the_queue(app, shops):
    from host.redis_connection import get_queue

    def send_jobs() -> int:
        return sum(j.func_name == pipeline.SEND_FUNCTION for j in get_queue("transactional").jobs)

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
        scheduled = [pipeline.live_job(i) for i in ids]
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
        first = accepted_message(shops, body="first")
        assert jobs.send_message(first) == "sent"
        number = message(first).sender_number
        db.session.execute(update(SenderNumber).where(SenderNumber.number == number).values(rate=1))
        db.session.commit()
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
        assert pipeline.live_job(stuck) is not None


def test_a_status_change_adds_its_line_without_loading_the_history(app, shops):
    from sqlalchemy import event

    from plugins.sms_module.models import lifecycle

    with app.app_context():
        mid = accepted_message(shops)
        db.session.expire_all()
        m = db.session.get(SmsMessage, mid)
        reads = []

        def count(_conn, _cursor, statement, *_args):
            if statement.lstrip().upper().startswith("SELECT") and "sms_status_change" in statement:
                reads.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert lifecycle.move(m, Status.SENDING, "module", "test")
            lifecycle.note(m, Status.SENDING, "module", "attempt 2")
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert reads == []  # two lines added, none of the earlier ones read
        assert history(message(mid)) == ["accepted", "scheduled", "queued", "sending", "sending"]
        # A loaded history gets the line in memory too.
        m = message(mid)
        assert len(m.history) == 5
        lifecycle.move(m, Status.SENT, "module", "SMx")
        assert [h.status.value for h in m.history][-1] == "sent"
        db.session.commit()
        assert history(message(mid))[-1] == "sent"


def test_a_number_with_room_for_one_segment_takes_a_short_message_but_keeps_phone_order(app, shops):
    """The number has room for 1 segment: a 3-segment message waits, the same phone's next
    message waits behind it, and another phone's 1-segment message on that number goes."""
    from host.models import Company
    from plugins.sms_module.models import Conversation, Queue
    from plugins.sms_module.sending.rate import SenderRate

    app.config["SMS_BATCH_SECONDS"] = 0.3
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

    app.config["SMS_BATCH_SECONDS"] = 0.3
    with app.app_context():
        first = accepted_message(shops, body="first")
        assert jobs.send_message(first) == "sent"
        number = message(first).sender_number
        limiter = SenderRate(get_redis(), app.config["SMS_RATE_MARGIN_SECONDS"])
        limiter.reset(number)
        held, free = (accepted_message(shops, body=b) for b in ("held", "free"))
        get_redis().set(pipeline.lease_key(held), 1, ex=30)  # another worker is on it
        assert send_job.send_backlog(first, app.config) == 1
        assert message(free).status == Status.SENT
        assert message(held).status == Status.QUEUED
        assert len(limiter.log(number)) == 1


def test_a_sent_message_settles_its_slot_once_the_carrier_has_it(app, shops):
    """The send's window is counted from the carrier's answer, not from the slot plus the
    margin for lateness, so the number's next window opens as early as it can."""
    from plugins.sms_module.sending.rate import SenderRate

    app.config["SMS_RATE_MARGIN_SECONDS"] = 0.5
    with app.app_context():
        mid = accepted_message(shops, body="settled")
        assert jobs.send_message(mid) == "sent"
        number = message(mid).sender_number
        (entry, exit_at), *more = get_redis().zrange(
            SenderRate.keys(number)[0], 0, -1, withscores=True
        )
        slot = float(entry.decode().split("|")[0])
        seconds, micros = get_redis().time()
        assert slot < exit_at - 1 < seconds + micros / 1e6  # after the slot, before now
        assert exit_at < slot + 1.5 - 0.2  # not slot + 1 + margin
