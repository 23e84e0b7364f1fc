"""Host events fire after the commit only, once, with what changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from host.extensions import db
from host.models import Appointment, AppointmentStatus, Customer
from tests.conftest import login
from tests.host.support_small_plugins import FailingOnEvents
from tests.support_plugins import RecordingPlugin


class CommitRefused(RuntimeError):
    """Raised by the database connection as it commits."""


def appointment_form(customer: int, **overrides) -> dict[str, str]:
    starts = datetime.now(UTC) + timedelta(days=3)
    data = {
        "customer_id": str(customer),
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "vehicle": "Civic 2019",
        "status": AppointmentStatus.BOOKED.value,
    }
    data.update(overrides)
    return data


# -- appointment_changed -------------------------------------------------------------


def test_hook_appointment_changed(plugin_client, plugin, shops):
    appointment = shops["a"]["appointment"]
    login(plugin_client, shops["a"]["staff"])
    response = plugin_client.post(
        f"/appointments/{appointment}",
        data=appointment_form(shops["a"]["customer"], vehicle="Corolla 2021", status="confirmed"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)

    [fired] = plugin.received("appointment_changed")
    assert fired["id"] == appointment
    assert fired["created"] is False
    assert fired["changes"]["vehicle"] == ("Civic 2019", "Corolla 2021")
    assert fired["changes"]["status"] == (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
    assert "customer_id" not in fired["changes"]
    # Another connection already saw the row: the hook ran after the commit.
    assert fired["elsewhere"]["vehicle"] == "Corolla 2021"


def test_booking_fires_once_as_created(plugin_client, plugin, shops):
    login(plugin_client, shops["a"]["staff"])
    response = plugin_client.post(
        "/appointments/new", data=appointment_form(shops["a"]["customer"], vehicle="Golf")
    )
    assert response.status_code == 302, response.get_data(as_text=True)

    [fired] = plugin.received("appointment_changed")
    assert fired["created"] is True
    assert fired["changes"]["vehicle"] == (None, "Golf")
    assert fired["elsewhere"] is not None
    assert fired["elsewhere"]["vehicle"] == "Golf"
    assert response.headers["Location"].endswith(f"/appointments/{fired['id']}")


def test_cancelling_fires_the_status_change(plugin_client, plugin, shops):
    appointment = shops["a"]["appointment"]
    login(plugin_client, shops["a"]["staff"])
    assert plugin_client.post(f"/appointments/{appointment}/cancel").status_code == 302
    [fired] = plugin.received("appointment_changed")
    assert fired["changes"] == {"status": (AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED)}


@pytest.mark.parametrize(
    "bad",
    [{"starts_at": "not a date"}, {"customer_id": "999999"}, {"status": "lost"}],
    ids=["date", "customer", "status"],
)
def test_failed_save_fires_nothing(plugin_client, plugin, shops, bad):
    login(plugin_client, shops["a"]["staff"])
    url = f"/appointments/{shops['a']['appointment']}"
    response = plugin_client.post(url, data=appointment_form(shops["a"]["customer"], **bad))
    assert response.status_code == 422
    assert plugin.received("appointment_changed") == []


def test_saving_unchanged_values_fires_nothing(plugin_app, plugin, shops):
    with plugin_app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        appointment.vehicle = "Civic 2019"  # the value it already has
        db.session.commit()
    assert plugin.received("appointment_changed") == []


def move(appointment_id: int, vehicle: str) -> None:
    """Change an appointment in the current session and flush it (events are recorded)."""
    appointment = db.session.get(Appointment, appointment_id)
    appointment.vehicle = vehicle
    db.session.flush()


def test_rollback_fires_nothing(plugin_app, plugin, shops):
    with plugin_app.app_context():
        move(shops["a"]["appointment"], "Rolled back")
        db.session.rollback()
        # A later commit in the same session must not fire what was rolled back.
        db.session.commit()
        assert db.session.get(Appointment, shops["a"]["appointment"]).vehicle == "Civic 2019"
    assert plugin.received("appointment_changed") == []


def test_exception_during_commit_fires_nothing(plugin_app, plugin, shops):
    def refuse(conn) -> None:
        raise CommitRefused("the database refused the commit")

    with plugin_app.app_context():
        move(shops["a"]["appointment"], "Never committed")
        event.listen(db.engine, "commit", refuse)
        try:
            with pytest.raises(CommitRefused):
                db.session.commit()
        finally:
            event.remove(db.engine, "commit", refuse)
        db.session.rollback()
        db.session.commit()
        assert db.session.get(Appointment, shops["a"]["appointment"]).vehicle == "Civic 2019"
    assert plugin.received("appointment_changed") == []


def test_several_flushes_fire_once_with_first_old_and_last_new(plugin_app, plugin, shops):
    with plugin_app.app_context():
        move(shops["a"]["appointment"], "First")
        move(shops["a"]["appointment"], "Second")
        db.session.commit()
    [fired] = plugin.received("appointment_changed")
    assert fired["changes"] == {"vehicle": ("Civic 2019", "Second")}


def test_a_change_undone_before_the_commit_fires_nothing(plugin_app, plugin, shops):
    with plugin_app.app_context():
        move(shops["a"]["appointment"], "Changed")
        move(shops["a"]["appointment"], "Civic 2019")
        db.session.commit()
    assert plugin.received("appointment_changed") == []


def test_a_savepoint_rollback_forgets_only_its_own_changes(plugin_app, plugin, shops):
    with plugin_app.app_context():
        move(shops["a"]["appointment"], "Kept")
        savepoint = db.session.begin_nested()
        move(shops["b"]["appointment"], "Rolled back")
        savepoint.rollback()
        db.session.commit()
    [fired] = plugin.received("appointment_changed")
    assert fired["id"] == shops["a"]["appointment"]
    assert fired["changes"] == {"vehicle": ("Civic 2019", "Kept")}


def test_a_released_savepoint_fires_with_the_commit(plugin_app, plugin, shops):
    with plugin_app.app_context():
        with db.session.begin_nested():
            move(shops["a"]["appointment"], "Inside")
        assert plugin.received("appointment_changed") == []  # not committed yet
        db.session.commit()
    [fired] = plugin.received("appointment_changed")
    assert fired["changes"] == {"vehicle": ("Civic 2019", "Inside")}


@pytest.mark.parametrize("failing_first", [True, False])
def test_a_failing_plugin_spares_the_commit_and_the_others(make_app, shops, failing_first):
    plugin = RecordingPlugin()
    # pluggy calls the plugin registered last first: try the failing one in both places.
    extra = [plugin, FailingOnEvents()] if failing_first else [FailingOnEvents(), plugin]
    app = make_app(PLUGINS_EXTRA=extra)
    client = app.test_client()
    login(client, shops["a"]["staff"])
    url = f"/appointments/{shops['a']['appointment']}"
    response = client.post(url, data=appointment_form(shops["a"]["customer"], vehicle="Kept"))
    assert response.status_code == 302
    assert len(plugin.received("appointment_changed")) == 1
    with app.app_context():
        assert db.session.get(Appointment, shops["a"]["appointment"]).vehicle == "Kept"


# -- invoice_printed -----------------------------------------------------------------


def test_hook_invoice_printed(plugin_client, plugin, shops):
    invoice = shops["a"]["invoice"]
    login(plugin_client, shops["a"]["staff"])
    assert plugin_client.get(f"/invoices/{invoice}").status_code == 200
    assert plugin.received("invoice_printed") == []  # showing is not printing

    for count in (1, 2):
        response = plugin_client.post(f"/invoices/{invoice}/print")
        assert response.status_code == 302
        fired = plugin.received("invoice_printed")
        assert len(fired) == count  # once per print
        assert fired[-1]["id"] == invoice
        assert fired[-1]["print_count"] == count
        assert fired[-1]["elsewhere"]["print_count"] == count


def test_creating_an_invoice_is_not_printing_it(plugin_client, plugin, shops):
    login(plugin_client, shops["a"]["staff"])
    response = plugin_client.post(
        "/invoices/new",
        data={"customer_id": shops["a"]["customer"], "number": "a-2", "total": "10.00"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert plugin.received("invoice_printed") == []


# -- customer_saved ------------------------------------------------------------------


def test_hook_customer_saved(plugin_client, plugin, shops):
    customer = shops["a"]["customer"]
    login(plugin_client, shops["a"]["staff"])
    response = plugin_client.post(
        f"/customers/{customer}",
        data={
            "first_name": "Client",
            "last_name": "A",
            "mobile_phone": "514 555 0199",
            "language": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [fired] = plugin.received("customer_saved")
    assert fired["id"] == customer
    assert fired["created"] is False
    # Only what changed, as (old, new), normalised as stored.
    assert fired["changes"] == {"mobile_phone": ("+15145550101", "+15145550199")}


def test_new_customer_fires_created(plugin_client, plugin, shops):
    login(plugin_client, shops["a"]["staff"])
    response = plugin_client.post(
        "/customers/new",
        data={"first_name": "Nouveau", "mobile_phone": "438 555 0100", "language": ""},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [fired] = plugin.received("customer_saved")
    assert fired["created"] is True
    assert fired["changes"]["first_name"] == (None, "Nouveau")
    assert fired["changes"]["mobile_phone"] == (None, "+14385550100")


def test_invalid_customer_fires_nothing(plugin_client, plugin, shops):
    login(plugin_client, shops["a"]["staff"])
    response = plugin_client.post(
        f"/customers/{shops['a']['customer']}",
        data={"first_name": "Client", "mobile_phone": "not a phone", "language": ""},
    )
    assert response.status_code == 422
    assert plugin.received("customer_saved") == []


def test_customer_information_save_fires_even_when_only_a_plugin_field_changed(
    plugin_client, plugin, app, shops
):
    login(plugin_client, shops["a"]["staff"])
    cid = shops["a"]["customer"]
    with app.app_context():
        c = db.session.get(Customer, cid)
        form = {
            "first_name": c.first_name,
            "last_name": c.last_name,
            "mobile_phone": c.mobile_phone,
            "email": "",
            "language": "",
        }
    assert plugin_client.post(f"/customers/{cid}", data=form).status_code == 302
    assert [(e["id"], e["changes"]) for e in plugin.received("customer_saved")] == [(cid, {})]
