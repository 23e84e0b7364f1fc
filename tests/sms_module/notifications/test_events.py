"""Host events to SMS: what each event sends, the disclaimer first, dedupe, consent."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from host.extensions import db
from host.models import Appointment, AppointmentStatus, Customer, Invoice
from plugins.sms_module import notifications
from plugins.sms_module.models import ConsentEvent, ConsentKind, SmsMessage
from plugins.sms_module.models.statuses import Status
from tests.conftest import login
from tests.support_sms import module_on, ready_to_send, run_event_jobs

TORONTO = ZoneInfo("America/Toronto")


def kinds(customer_id: int) -> list[tuple[str, str]]:
    """Run the queued event jobs, then list the customer's messages as (kind, status)."""
    run_event_jobs()
    db.session.expire_all()
    rows = db.session.scalars(
        select(SmsMessage).where(SmsMessage.customer_id == customer_id).order_by(SmsMessage.id)
    )
    return [(m.kind, m.status.value) for m in rows]


def book(client, customer_id: int, when: datetime, status: str = "booked") -> None:
    """Book through the page, then let a worker handle the event (as it does at once)."""
    local = when.astimezone(TORONTO).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/appointments/new",
        data={"customer_id": customer_id, "starts_at": local, "vehicle": "Civic", "status": status},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with client.application.app_context():
        assert run_event_jobs() >= 1


@pytest.fixture(autouse=True)
def daytime(time_machine):
    """A Tuesday morning, shop time: what the events send does not hang on the hour."""
    time_machine.move_to(datetime(2026, 12, 1, 10, 0, tzinfo=TORONTO), tick=True)


@pytest.fixture
def staff(client, app, shops):
    with app.app_context():
        ready_to_send(shops, disclaimed=False)
    login(client, shops["a"]["staff"])
    return client


def test_booking_sends_disclaimer_then_confirmation_and_schedules_a_reminder(staff, app, shops):
    cid = shops["a"]["customer"]
    book(staff, cid, datetime.now(UTC) + timedelta(days=3))
    with app.app_context():
        assert kinds(cid) == [
            ("disclaimer", "queued"),
            ("appointment_booked", "queued"),
            ("appointment_reminder", "scheduled"),
        ]
        first, booked, reminder = db.session.scalars(
            select(SmsMessage).where(SmsMessage.customer_id == cid).order_by(SmsMessage.id)
        ).all()
        # Shop A is in Quebec and the customer has no language: French.
        assert "ARRET" in first.body.upper() and "Garage A" in first.body
        assert "Civic" in booked.body or "Garage A" in booked.body
        local = reminder.send_at.astimezone(TORONTO)
        assert 8 <= local.hour < 21  # never at night


def test_moving_sends_an_update_and_moves_the_reminder(staff, app, shops):
    cid = shops["a"]["customer"]
    book(staff, cid, datetime.now(UTC) + timedelta(days=3))
    with app.app_context():
        appointment = db.session.scalar(select(Appointment).order_by(Appointment.id.desc()))
        aid = appointment.id
    later = datetime.now(UTC) + timedelta(days=5)
    response = staff.post(
        f"/appointments/{aid}",
        data={
            "customer_id": cid,
            "starts_at": later.astimezone(TORONTO).strftime("%Y-%m-%dT%H:%M"),
            "vehicle": "Civic",
            "status": "booked",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        assert kinds(cid)[2:] == [
            ("appointment_reminder", "canceled"),
            ("appointment_moved", "queued"),
            ("appointment_reminder", "scheduled"),
        ]


def test_cancelling_cancels_the_reminder_and_says_so(staff, app, shops):
    cid = shops["a"]["customer"]
    book(staff, cid, datetime.now(UTC) + timedelta(days=3))
    with app.app_context():
        aid = db.session.scalar(select(Appointment.id).order_by(Appointment.id.desc()))
    assert staff.post(f"/appointments/{aid}/cancel").status_code == 302
    with app.app_context():
        assert kinds(cid)[2:] == [
            ("appointment_reminder", "canceled"),
            ("appointment_cancelled", "queued"),
        ]


def test_vehicle_ready_and_invoice_printed(staff, app, shops):
    cid = shops["a"]["customer"]
    aid = shops["a"]["appointment"]
    with app.app_context():
        a = db.session.get(Appointment, aid)
        a.status = AppointmentStatus.READY
        db.session.commit()
        assert ("vehicle_ready", "queued") in kinds(cid)
    assert staff.post(f"/invoices/{shops['a']['invoice']}/print").status_code == 302
    assert staff.post(f"/invoices/{shops['a']['invoice']}/print").status_code == 302
    with app.app_context():
        printed = [k for k in kinds(cid) if k[0] == "invoice_printed"]
        assert printed == [("invoice_printed", "queued")]  # printed twice, sent once


def test_same_event_twice_sends_once(app, shops):
    with app.app_context():
        ready_to_send(shops)
        a = db.session.get(Appointment, shops["a"]["appointment"])
        for _ in range(2):
            notifications.appointment_changed(a, {"status": (None, "booked")}, True)
        assert [k for k, _ in kinds(a.customer_id)].count("appointment_booked") == 1
        assert [k for k, _ in kinds(a.customer_id)].count("appointment_reminder") == 1


def test_module_off_ignores_events(app, shops):
    with app.app_context():
        ready_to_send(shops)
        module_on(shops["a"]["shop"], False)
        a = db.session.get(Appointment, shops["a"]["appointment"])
        notifications.appointment_changed(a, {}, True)
        notifications.invoice_printed(db.session.get(Invoice, shops["a"]["invoice"]))
        assert [k for k, _ in kinds(a.customer_id) if k != "disclaimer"] == []


def test_consent_given_welcomes_and_withdrawn_cancels(client, app, shops):
    cid = shops["a"]["customer"]
    with app.app_context():
        module_on(shops["a"]["shop"])
        c = db.session.get(Customer, cid)
        form = {
            "first_name": c.first_name,
            "last_name": c.last_name,
            "mobile_phone": c.mobile_phone,
            "email": "",
            "language": "en",
        }
    login(client, shops["a"]["staff"])
    given = dict(
        form,
        sms_consent="on",
        sms_consent_method="paper",
        sms_consent_date="2026-11-20",
        sms_consent_reference="form 9",
    )
    assert client.post(f"/customers/{cid}", data=given).status_code == 302
    with app.app_context():
        assert kinds(cid) == [("disclaimer", "queued"), ("welcome", "queued")]
        body = db.session.scalars(select(SmsMessage.body).order_by(SmsMessage.id)).first()
        assert "STOP" in body  # the customer chose English
    assert client.post(f"/customers/{cid}", data=form).status_code == 302  # unticked
    with app.app_context():
        assert kinds(cid) == [("disclaimer", "canceled"), ("welcome", "canceled")]
        assert db.session.scalar(select(ConsentEvent.kind).order_by(ConsentEvent.id.desc())) == (
            ConsentKind.WITHDRAWN
        )


def test_new_phone_gets_the_waiting_messages_and_its_own_disclaimer(app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        a = db.session.get(Appointment, shops["a"]["appointment"])
        notifications.schedule_reminder(a)
        customer.mobile_phone = "+15145550177"
        db.session.commit()
        run_event_jobs()
        reminder = db.session.scalar(
            select(SmsMessage).where(SmsMessage.kind == "appointment_reminder")
        )
        assert reminder.phone == "+15145550177" and reminder.status == Status.SCHEDULED
