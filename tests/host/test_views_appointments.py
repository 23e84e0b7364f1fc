"""Appointments (``host/views/appointments.py``): booked in the shop's time zone, moved,
status changed, cancelled; bad input refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from host.extensions import db
from host.models import Appointment, AppointmentStatus, Company
from tests.conftest import login
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


def forget_province(app, shop_id: int, country: str | None = "CA") -> None:
    """Empty the shop's province (and its country when ``country`` is None)."""
    with app.app_context():
        shop = db.session.get(Company, shop_id)
        shop.province, shop.country = None, country
        db.session.commit()


@pytest.mark.parametrize("country", ["CA", None])
def test_booking_is_refused_while_the_shop_time_zone_is_unknown(admin, app, shops, country):
    # Issue 12 point 3: stored as UTC, 09:30 later showed as 4:30 AM. Nothing is stored.
    forget_province(app, shops["a"]["shop"], country)
    before = row_counts(app)
    response = admin.post("/appointments/new", data=appointment_form(shops))
    assert_refused(
        app,
        response,
        before,
        "The shop's time zone is unknown: fill in its country and province in Company "
        "management before booking or moving an appointment.",
    )
    # The administrator is sent where to fill it in.
    assert f'href="/companies/{shops["a"]["shop"]}"' in response.text
    assert 'id="zone-missing"' in admin.get("/appointments/new").text


def test_staff_is_told_to_ask_an_administrator_for_the_province(client, app, shops):
    forget_province(app, shops["a"]["shop"])
    login(client, shops["a"]["staff"])
    client.get("/language/en")
    before = row_counts(app)
    response = client.post("/appointments/new", data=appointment_form(shops))
    assert_refused(
        app, response, before, "Ask a shop administrator to fill them in Company management."
    )
    assert "/companies/" not in response.text


def test_moving_is_refused_while_the_shop_time_zone_is_unknown(admin, app, shops):
    forget_province(app, shops["a"]["shop"])
    url = f"/appointments/{shops['a']['appointment']}"
    with app.app_context():
        stored = db.session.get(Appointment, shops["a"]["appointment"]).starts_at
    before = row_counts(app)
    form = appointment_form(shops, starts_at="2031-07-01T08:00")
    assert_refused(app, admin.post(url, data=form), before, "The shop's time zone is unknown")
    # At the time it has, its status may still change (or it may be cancelled).
    same_time = as_utc(stored).strftime("%Y-%m-%dT%H:%M")
    assert (
        admin.post(url, data={**form, "starts_at": same_time, "status": "confirmed"}).status_code
        == 302
    )
    with app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        assert appointment.status == AppointmentStatus.CONFIRMED
        assert as_utc(appointment.starts_at) == as_utc(stored).replace(second=0, microsecond=0)


def test_booking_is_stored_in_the_shop_time_zone_once_the_province_is_filled(admin, app, shops):
    with app.app_context():
        db.session.get(Company, shops["a"]["shop"]).province = "BC"
        db.session.commit()
    response = admin.post("/appointments/new", data=appointment_form(shops))
    assert response.status_code == 302
    with app.app_context():
        appointment = db.session.get(Appointment, int(response.location.rsplit("/", 1)[1]))
        # Vancouver is eight hours behind UTC in early March.
        assert as_utc(appointment.starts_at) == datetime(2031, 3, 4, 17, 30, tzinfo=UTC)
    page = admin.get(response.location).text
    assert "Pacific Time (Vancouver)" in page and 'id="zone-missing"' not in page


def test_cancelling_asks_first_and_says_a_text_may_go(admin, app, shops):
    # Issue 12 point 8: the cancel form carries the question confirm.js asks.
    page = admin.get(f"/appointments/{shops['a']['appointment']}").text
    assert re.search(
        r'<form[^>]*/cancel"[^>]*data-confirm="Cancel this appointment\? The customer may get '
        r'a text telling them it is cancelled\."',
        page,
    )
    assert "/static/confirm.js" in page
