"""Appointments (``host/views/appointments.py``): booked in the shop's time zone, moved,
status changed, cancelled; bad input refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from host.extensions import db
from host.models import Appointment, AppointmentStatus
from tests.host.support_views import as_utc, assert_refused
from tests.support_pages import row_counts


def appointment_form(shops, **change) -> dict:
    form = {
        "customer_id": shops["a"]["customer"],
        "starts_at": "2031-03-04T09:30",
        "vehicle": "Corolla 2020",
        "status": "booked",
    }
    return {**form, **change}


def test_appointment_is_booked_in_the_shop_time_zone(plugin_admin, shops, pages_plugin):
    app, client = plugin_admin
    response = client.post("/appointments/new", data=appointment_form(shops))
    assert response.status_code == 302
    appointment_id = int(response.location.rsplit("/", 1)[1])
    with app.app_context():
        appointment = db.session.get(Appointment, appointment_id)
        # Quebec is five hours behind UTC in early March.
        assert as_utc(appointment.starts_at) == datetime(2031, 3, 4, 14, 30, tzinfo=UTC)
        assert appointment.company_id == shops["a"]["shop"]
    booked = [(i, created) for i, _c, created in pages_plugin.appointments]
    assert booked == [(appointment_id, True)]
    assert "2031-03-04T09:30" in client.get(response.location).text


def test_appointment_is_moved_its_status_changed_and_cancelled(admin, app, shops):
    url = f"/appointments/{shops['a']['appointment']}"
    form = appointment_form(shops, starts_at="2031-07-01T08:00", status="ready")
    assert admin.post(url, data=form).status_code == 302
    with app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        assert as_utc(appointment.starts_at) == datetime(2031, 7, 1, 12, 0, tzinfo=UTC)
        assert appointment.status == AppointmentStatus.READY
    assert "Ready" in admin.get("/appointments/").text
    assert admin.post(f"{url}/cancel").status_code == 302
    with app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        assert appointment.status == AppointmentStatus.CANCELLED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customer_id": "b"}, "Not a valid choice."),
        ({"customer_id": "abc"}, "Invalid Choice: could not coerce."),
        ({"customer_id": ""}, "This field is required."),
        ({"starts_at": ""}, "This field is required."),
        ({"starts_at": "tomorrow"}, "Not a valid datetime value."),
        ({"starts_at": "2031-02-30T10:00"}, "Not a valid datetime value."),
        ({"starts_at": "9999-12-31T23:59"}, "Enter a year between 1900 and 2100."),
        ({"starts_at": "0001-01-01T00:00"}, "Enter a year between 1900 and 2100."),
        # Issue 13 §4: dates outside 1900–2100 are typos (2999-12-31 was saved).
        ({"starts_at": "2999-12-31T10:00"}, "Enter a year between 1900 and 2100."),
        ({"starts_at": "2101-01-01T00:00"}, "Enter a year between 1900 and 2100."),
        ({"status": "exploded"}, "Not a valid choice."),
        ({"vehicle": "x" * 201}, "Field cannot be longer than 200 characters."),
    ],
)
def test_appointment_refuses_bad_input(admin, app, shops, change, message):
    if change.get("customer_id") == "b":
        change = {"customer_id": shops["b"]["customer"]}  # a customer of another shop
    before = row_counts(app)
    form = appointment_form(shops, **change)
    assert_refused(app, admin.post("/appointments/new", data=form), before, message)
    url = f"/appointments/{shops['a']['appointment']}"
    assert_refused(app, admin.post(url, data=form), before, message)
    with app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        assert (appointment.vehicle, appointment.status) == ("Civic 2019", "booked")
