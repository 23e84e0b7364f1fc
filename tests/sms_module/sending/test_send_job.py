"""The send job, run in-process on a real Redis: one message from its queue to the carrier,
from a pool number, once, with the checks run again just before the carrier."""

import pytest
from sqlalchemy import select, update

from host.extensions import db
from host.redis_connection import get_redis
from plugins.sms_module import jobs
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import SenderNumber, SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import outbox
from tests.support_pipeline import accepted_message, carrier, history, in_process_app, message


@pytest.fixture
def app(make_app, redis_url):
    """No simulator reports here: they are posted by tests that run a web server."""
    # One message per job here; sending a backlog in one job has its own test.
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


def test_accepted_message_is_queued_then_sent_from_a_pool_number(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        assert message(mid).status == Status.QUEUED  # on its queue at once: it is due
        assert outbox.live_job(mid) is not None
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
        job = outbox.live_job(second)
        assert job is not None and job.get_status() == "scheduled"


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
