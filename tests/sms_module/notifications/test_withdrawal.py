"""Texts that stop being true are withdrawn: an appointment that is no longer upcoming, a
vehicle already picked up, a visit moved into the past; appointments that never were send
nothing (issue 11 §1, §2)."""

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from host.extensions import db
from host.models import Appointment
from plugins.sms_module.models.statuses import Status
from tests.conftest import login
from tests.sms_module.notifications.appointment_form import NOW, all_of, messages, save


@pytest.mark.parametrize("status", ["in_progress", "ready", "completed", "cancelled"])
def test_a_reminder_is_withdrawn_when_the_appointment_stops_being_upcoming(
    staff, app, shops, status
):
    cid = shops["a"]["customer"]
    starts = NOW + timedelta(days=3)
    aid = save(staff, None, starts, "booked", cid)
    with app.app_context():
        reminder = messages(cid)["appointment_reminder"]
        assert reminder.status == Status.SCHEDULED and reminder.guard == "upcoming"
        assert reminder.expires_at == starts and reminder.appointment_id == aid
    save(staff, aid, starts, status, cid)
    with app.app_context():
        reminder = messages(cid)["appointment_reminder"]
        assert reminder.status == Status.CANCELED
        assert reminder.history[-1].detail == f"appointment_not_upcoming: {status}"


def test_completing_an_appointment_withdraws_its_reminder(staff, app, shops):
    # The field case: the job done, the customer was still reminded of it.
    cid = shops["a"]["customer"]
    starts = NOW + timedelta(days=2)
    aid = save(staff, None, starts, "booked", cid)
    save(staff, aid, starts, "completed", cid)
    with app.app_context():
        reminder = messages(cid)["appointment_reminder"]
        assert reminder.status == Status.CANCELED
        assert reminder.history[-1].detail == "appointment_not_upcoming: completed"


def test_vehicle_ready_is_withdrawn_once_the_vehicle_is_picked_up(staff, app, shops):
    cid = shops["a"]["customer"]
    starts = NOW + timedelta(hours=2)
    aid = save(staff, None, starts, "booked", cid)
    save(staff, aid, starts, "ready", cid)
    with app.app_context():
        assert messages(cid)["vehicle_ready"].status in {Status.SCHEDULED, Status.QUEUED}
    save(staff, aid, starts, "completed", cid)
    with app.app_context():
        ready = messages(cid)["vehicle_ready"]
        assert (
            ready.status == Status.CANCELED
            and ready.history[-1].detail == "vehicle_not_ready: completed"
        )


def test_moving_into_the_past_withdraws_the_reminder_and_says_nothing(staff, app, shops):
    cid = shops["a"]["customer"]
    aid = save(staff, None, NOW + timedelta(days=3), "booked", cid)
    save(staff, aid, NOW - timedelta(hours=3), "booked", cid)
    with app.app_context():
        found = messages(cid)
        assert "appointment_moved" not in found
        assert found["appointment_reminder"].status == Status.CANCELED
        # The confirmation of the old slot had not left: it is withdrawn too.
        assert found["appointment_booked"].status == Status.CANCELED


def test_booking_in_the_past_is_refused_and_stores_nothing(staff, app, shops):
    cid = shops["a"]["customer"]
    with app.app_context():
        before = db.session.scalar(select(db.func.count(Appointment.id)))
    page = save(staff, None, NOW - timedelta(days=1), "booked", cid)
    assert page.status_code == 422
    assert "This time has passed: book an appointment for a time to come" in page.text
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Appointment.id))) == before
        assert messages(cid) == {}


def test_a_past_visit_is_recorded_with_its_status_and_sends_nothing(staff, app, shops):
    # A shop records yesterday's job: no confirmation, no reminder, no refusal.
    cid = shops["a"]["customer"]
    aid = save(staff, None, NOW - timedelta(days=1), "completed", cid)
    assert isinstance(aid, int)
    with app.app_context():
        assert messages(cid) == {}


def test_an_appointment_back_to_booked_gets_its_reminder_again(staff, app, shops):
    cid = shops["a"]["customer"]
    starts = NOW + timedelta(days=3)
    aid = save(staff, None, starts, "booked", cid)
    save(staff, aid, starts, "in_progress", cid)  # set by mistake
    save(staff, aid, starts, "booked", cid)
    with app.app_context():
        reminders = all_of(cid, "appointment_reminder")
        assert [m.status for m in reminders] == [Status.CANCELED, Status.SCHEDULED]
        assert len(all_of(cid, "appointment_booked")) == 1  # nothing more to confirm


def test_a_cancel_undone_confirms_the_appointment_again(staff, app, shops):
    cid = shops["a"]["customer"]
    starts = NOW + timedelta(days=3)
    aid = save(staff, None, starts, "booked", cid)
    save(staff, aid, starts, "cancelled", cid)
    with app.app_context():
        # The customer was told of the cancel (as if it left).
        [cancelled] = all_of(cid, "appointment_cancelled")
        cancelled.status = Status.DELIVERED
        db.session.commit()
    save(staff, aid, starts, "booked", cid)
    with app.app_context():
        assert len(all_of(cid, "appointment_booked")) == 2
        assert all_of(cid, "appointment_reminder")[-1].status == Status.SCHEDULED
    save(staff, aid, starts, "cancelled", cid)
    with app.app_context():
        assert len(all_of(cid, "appointment_cancelled")) == 2  # cancelled again: told again


def test_a_vehicle_ready_again_is_told_again(staff, app, shops):
    cid = shops["a"]["customer"]
    starts = NOW + timedelta(hours=2)
    aid = save(staff, None, starts, "booked", cid)
    for status in ("ready", "in_progress", "ready"):
        save(staff, aid, starts, status, cid)
    with app.app_context():
        ready = all_of(cid, "vehicle_ready")
        assert [m.status for m in ready][0] == Status.CANCELED  # back in the shop: withdrawn
        assert len(ready) == 2 and ready[1].status != Status.CANCELED


def test_a_walk_in_booked_at_the_time_it_is_sends_no_reminder(staff, app, shops):
    cid = shops["a"]["customer"]
    aid = save(staff, None, NOW - timedelta(minutes=2), "booked", cid)
    assert isinstance(aid, int)
    with app.app_context():
        assert messages(cid) == {}  # the visit is now: nothing to confirm or remind


@pytest.mark.parametrize("status", ["cancelled", "completed", "in_progress"])
def test_an_appointment_created_not_upcoming_sends_nothing(staff, app, shops, status):
    cid = shops["a"]["customer"]
    save(staff, None, NOW + timedelta(days=2), status, cid)
    with app.app_context():
        assert messages(cid) == {}


def test_the_appointment_page_shows_when_each_text_leaves_and_cancels_one(staff, app, shops):
    cid = shops["a"]["customer"]
    starts = NOW + timedelta(days=3)
    aid = save(staff, None, starts, "booked", cid)
    page = staff.get(f"/appointments/{aid}").text
    assert 'id="sms-scheduled"' in page
    with app.app_context():
        reminder_id = messages(cid)["appointment_reminder"].id
    # The reminder leaves 24 hours before, shop time, and is dropped at the start.
    assert "Dec 3, 2026, 10:00\u202fa.m." in page and "Dec 4, 2026, 10:00\u202fa.m." in page
    answer = staff.post(f"/sms/messages/{reminder_id}/cancel", data={"back": "appointment"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/appointments/{aid}")
    with app.app_context():
        reminder = messages(cid)["appointment_reminder"]
        assert reminder.status == Status.CANCELED
        assert reminder.history[-1].source == "staff"
    tab = staff.get(f"/sms/customers/{cid}").text
    assert f'data-message-id="{reminder_id}"' not in tab


def test_a_message_that_left_cannot_be_canceled_and_another_shop_sees_404(
    staff, client, app, shops
):
    cid = shops["a"]["customer"]
    save(staff, None, NOW + timedelta(days=3), "booked", cid)
    with app.app_context():
        booked = messages(cid)["appointment_booked"]
        booked.status = Status.SENT
        db.session.commit()
        booked_id = booked.id
    answer = staff.post(f"/sms/messages/{booked_id}/cancel", follow_redirects=True)
    assert "This SMS can no longer be canceled: it has already left." in answer.text
    with app.app_context():
        assert messages(cid)["appointment_booked"].status == Status.SENT
    staff.post("/logout")
    login(staff, shops["b"]["staff"])
    assert staff.post(f"/sms/messages/{booked_id}/cancel").status_code == 404


def test_a_change_handled_twice_sends_once(staff, app, shops):
    # A retried event job carries the same event id: its texts' keys are the same.
    from plugins.sms_module.notifications import events

    cid = shops["a"]["customer"]
    aid = save(staff, None, NOW + timedelta(days=3), "booked", cid)
    with app.app_context():
        appointment = db.session.get(Appointment, aid)
        appointment.starts_at = NOW + timedelta(days=4)
        db.session.commit()
        for _ in range(2):
            events.appointment_changed(appointment, {"starts_at": None}, False, "a1b2")
        assert len(all_of(cid, "appointment_moved")) == 1
        assert len([m for m in all_of(cid, "appointment_reminder") if m.status == "scheduled"]) == 1


def test_the_sms_tab_says_why_each_text_was_canceled_in_the_readers_language(staff, app, shops):
    cid = shops["a"]["customer"]
    starts = NOW + timedelta(days=3)
    aid = save(staff, None, starts, "booked", cid)
    save(staff, aid, starts, "completed", cid)
    english = staff.get(f"/sms/customers/{cid}").text
    assert "The appointment is no longer upcoming (Completed)." in english
    assert "appointment_not_upcoming" not in english  # no code shown to people
    staff.get("/language/fr")
    french = html.unescape(staff.get(f"/sms/customers/{cid}").text)
    assert "Le rendez-vous n'est plus à venir (Terminé)." in french
