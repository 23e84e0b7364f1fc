"""Just before the carrier call, a text is checked to be still true: a reminder of an
appointment completed meanwhile (its event lost or late) or held past the appointment's
start is Canceled and never reaches the carrier (issue 11 §1)."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from host.extensions import db
from host.models import Appointment, AppointmentStatus, utcnow
from plugins.sms_module import jobs
from plugins.sms_module.compliance import guards
from plugins.sms_module.models import Kind, SmsMessage
from plugins.sms_module.models.statuses import Status
from tests.support_pipeline import accepted_message, carrier, in_process_app, message


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app, SMS_BATCH_SECONDS=0)


def reminder_of(shops, appointment_id: int, starts, kind=Kind.APPOINTMENT_REMINDER) -> int:
    """Accept a text about the appointment, guarded as the event texts are; return its id."""
    mid = accepted_message(shops, body="Rappel : votre rendez-vous")
    appointment = db.session.get(Appointment, appointment_id)
    appointment.starts_at = starts
    m = db.session.get(SmsMessage, mid)
    m.kind = kind
    guards.guard_for(kind, appointment).stamp(m)
    db.session.commit()
    return mid


def test_a_reminder_of_an_appointment_completed_meanwhile_never_reaches_the_carrier(app, shops):
    with app.app_context():
        aid = shops["a"]["appointment"]
        mid = reminder_of(shops, aid, utcnow() + timedelta(hours=20))
        # Completed without the event reaching the SMS module (a lost or late event job).
        db.session.execute(
            update(Appointment)
            .where(Appointment.id == aid)
            .values(status=AppointmentStatus.COMPLETED)
        )
        db.session.commit()
        assert jobs.send_message(mid) == "withdrawn"
        m = message(mid)
        assert m.status == Status.CANCELED and m.provider_sid is None and m.attempts == 0
        assert m.history[-1].detail == "appointment_not_upcoming: completed"
        assert carrier(app).sent_count() == 0


def test_a_reminder_held_past_the_appointment_start_is_dropped_not_sent_late(app, shops):
    with app.app_context():
        aid = shops["a"]["appointment"]
        mid = reminder_of(shops, aid, utcnow() + timedelta(hours=1))
        # A backlog or the night held it until after the visit began.
        db.session.execute(
            update(Appointment)
            .where(Appointment.id == aid)
            .values(starts_at=utcnow() - timedelta(minutes=1))
        )
        db.session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == mid)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
        assert jobs.send_message(mid) == "withdrawn"
        m = message(mid)
        assert m.status == Status.CANCELED
        assert m.history[-1].detail == "expired"
        assert carrier(app).sent_count() == 0


def test_a_confirmation_of_a_slot_moved_since_is_dropped(app, shops):
    with app.app_context():
        aid = shops["a"]["appointment"]
        mid = reminder_of(shops, aid, utcnow() + timedelta(days=2), Kind.APPOINTMENT_MOVED)
        db.session.execute(
            update(Appointment)
            .where(Appointment.id == aid)
            .values(starts_at=utcnow() + timedelta(days=4))
        )
        db.session.commit()
        assert jobs.send_message(mid) == "withdrawn"
        assert message(mid).history[-1].detail == ("appointment_moved")
        assert carrier(app).sent_count() == 0


def test_a_true_guarded_text_goes(app, shops):
    with app.app_context():
        mid = reminder_of(shops, shops["a"]["appointment"], utcnow() + timedelta(days=1))
        assert jobs.send_message(mid) == "sent"
        assert carrier(app).sent_count() == 1


def test_vehicle_ready_waits_for_nothing_but_stops_once_picked_up(app, shops):
    with app.app_context():
        aid = shops["a"]["appointment"]
        db.session.get(Appointment, aid).status = AppointmentStatus.READY
        db.session.commit()
        mid = reminder_of(shops, aid, utcnow() - timedelta(hours=2), Kind.VEHICLE_READY)
        assert message(mid).expires_at is None  # a ready car stays ready after the start
        db.session.get(Appointment, aid).status = AppointmentStatus.COMPLETED
        db.session.commit()
        assert jobs.send_message(mid) == "withdrawn"
        assert carrier(app).sent_count() == 0


def test_a_message_of_a_canceled_campaign_that_slipped_past_the_cancel_is_not_sent(app, shops):
    from plugins.sms_module.models import SmsCampaign
    from plugins.sms_module.models.campaigns import CampaignStatus

    with app.app_context():
        campaign = SmsCampaign(
            company_id=shops["a"]["shop"], name="Promo", body="Promo", send_at=utcnow()
        )
        db.session.add(campaign)
        db.session.commit()
        mid = accepted_message(shops, body="Promo")
        db.session.get(SmsMessage, mid).campaign_id = campaign.id
        campaign.status = CampaignStatus.CANCELED
        db.session.commit()
        assert jobs.send_message(mid) == "withdrawn"
        assert message(mid).history[-1].detail == "campaign_canceled"
        assert carrier(app).sent_count() == 0


def test_a_cancel_and_a_worker_at_the_same_moment_never_both_win(app, shops):
    """Each read the message Queued; SQLite takes no row lock, so each move checks in SQL
    that the row is still what it read (``lifecycle.hold``): the loser changes nothing."""
    from sqlalchemy.orm import Session

    from plugins.sms_module.models import Source, lifecycle
    from plugins.sms_module.sending import send_job

    with app.app_context():
        mid = accepted_message(shops)
        worker_copy = db.session.get(SmsMessage, mid)  # the worker read it Queued
        sender = db.session.scalars(select_number()).first()
        with Session(db.engine) as shop:  # the shop's cancel, in another connection
            assert lifecycle.withdraw(shop.get(SmsMessage, mid), Source.STAFF, "canceled by x")
            shop.commit()
        assert send_job._mark_sending(worker_copy, sender) is None
        assert message(mid).status == Status.CANCELED and message(mid).attempts == 0

        other = accepted_message(shops, body="Second")
        shop_copy_session = Session(db.engine)
        shop_copy = shop_copy_session.get(SmsMessage, other)  # the shop read it Queued
        assert send_job._mark_sending(db.session.get(SmsMessage, other), sender) is not None
        assert not lifecycle.withdraw(shop_copy, Source.STAFF, "too late")
        shop_copy_session.rollback()
        shop_copy_session.close()
        assert message(other).status == Status.SENDING


def select_number():
    from sqlalchemy import select

    from plugins.sms_module.models import SenderNumber

    return select(SenderNumber).where(SenderNumber.enabled.is_(True))
