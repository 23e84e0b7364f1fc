"""The pipeline with real worker processes, a served web app and the simulator:
delivery by itself, kill -9 in the middle of the carrier call, Redis emptied mid-run."""

from __future__ import annotations

from sqlalchemy import select, update

from host.extensions import db
from host.redis_connection import get_redis
from plugins.sms_module.carriers.simulator import FREEZE_KEY, THAW_KEY, SimulatorCarrier
from plugins.sms_module.models import SenderNumber, SmsMessage
from plugins.sms_module.models.statuses import Status
from tests.support_pipeline import accepted_message, wait_for


def statuses(ids) -> dict[int, Status]:
    db.session.expire_all()
    rows = db.session.execute(
        select(SmsMessage.id, SmsMessage.status).where(SmsMessage.id.in_(ids))
    )
    return dict(rows.all())


def test_message_goes_to_delivered_by_itself(app, shops, serve, workers):
    url = serve(app)
    app.config["SMS_PUBLIC_BASE_URL"] = url
    pool = workers(SMS_SIMULATOR_CALLBACK_DELAY=0.2)
    pool.env["SMS_PUBLIC_BASE_URL"] = url
    pool.start()
    with app.app_context():
        mid = accepted_message(shops)
        wait_for(lambda: statuses([mid])[mid] == Status.DELIVERED, what="Delivered")
        history = [h.status.value for h in db.session.get(SmsMessage, mid).history]
        assert history == ["accepted", "scheduled", "queued", "sending", "sent", "delivered"]


def test_kill_9_mid_call_20_times_sends_each_message_exactly_once(app, shops, workers):
    pool = workers(
        SMS_SIMULATOR_CALLBACK_DELAY="null", SMS_SEND_LEASE_SECONDS=1, SMS_SWEEP_GRACE_SECONDS=0
    )
    with app.app_context():
        db.session.execute(update(SenderNumber).values(rate=50))
        db.session.commit()
        redis = get_redis()
        carrier = SimulatorCarrier.from_config(app.config)
        ids = []
        worker = pool.start()
        for i in range(20):
            # The messages killed so far were taken up again before the next kill.
            wait_for(
                lambda: set(statuses(ids).values()) <= {Status.SENT},
                what="the earlier messages Sent",
                state=lambda: statuses(ids),
            )
            # Half the kills land before the carrier takes the message, half after.
            point = "before" if i % 2 else "after"
            redis.set(FREEZE_KEY, point)
            taken = carrier.sent_count()
            mid = accepted_message(shops, body=f"message {i}")
            ids.append(mid)
            if point == "after":
                wait_for(lambda t=taken: carrier.sent_count() > t, what="the carrier to take it")
            else:
                wait_for(lambda m=mid: statuses([m])[m] == Status.SENDING, what="Sending")
            pool.kill(worker)
            redis.delete(FREEZE_KEY)
            redis.delete(THAW_KEY)
            worker = pool.start()
        wait_for(
            lambda: set(statuses(ids).values()) == {Status.SENT},
            what="every message Sent",
            state=lambda: statuses(ids),
        )
        sids = db.session.scalars(
            select(SmsMessage.provider_sid).where(SmsMessage.id.in_(ids))
        ).all()
        assert len(set(sids)) == 20
        assert carrier.sent_count() == 20, "a message reached the carrier twice"
        for mid, sid in zip(ids, sids, strict=True):
            assert carrier.fetch(sid).to == db.session.get(SmsMessage, mid).phone


def test_emptying_redis_mid_run_loses_nothing(app, shops, workers):
    # A send cut short by the flush is taken up again once its lease runs out: keep it short.
    pool = workers(
        SMS_SIMULATOR_CALLBACK_DELAY="null", SMS_SWEEP_GRACE_SECONDS=0, SMS_SEND_LEASE_SECONDS=5
    )
    with app.app_context():
        db.session.execute(update(SenderNumber).values(rate=5))
        db.session.commit()
        ids = [accepted_message(shops, body=f"m{i}") for i in range(30)]
        pool.start()
        carrier = SimulatorCarrier.from_config(app.config)
        wait_for(lambda: carrier.sent_count() >= 3, what="sending to start")
        get_redis().flushdb()  # jobs, rate logs and the carrier's own records are gone
        wait_for(lambda: set(statuses(ids).values()) == {Status.SENT}, what="every message Sent")
        sids = db.session.scalars(
            select(SmsMessage.provider_sid).where(SmsMessage.id.in_(ids))
        ).all()
        assert len(set(sids)) == 30
