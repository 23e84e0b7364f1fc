"""The host's event log (issue 15, point 1): one host_event row per event, committed in the
transaction of the save that caused it, its id handed to the hooks as ``event_id``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, text

from host.event_log import HostEvent, prune
from host.extensions import db
from host.hookspecs import hookimpl
from host.models import Appointment, AppointmentStatus, Invoice
from tests.conftest import login


class EventIds:
    """A plugin that names ``event_id`` in its event hooks and records what it got."""

    __name__ = "event-ids"

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    @hookimpl
    def appointment_changed(self, appointment, event_id):
        self.calls.append(("appointment_changed", appointment.id, event_id))

    @hookimpl
    def customer_saved(self, customer, event_id):
        self.calls.append(("customer_saved", customer.id, event_id))

    @hookimpl
    def invoice_printed(self, invoice, event_id):
        self.calls.append(("invoice_printed", invoice.id, event_id))


@pytest.fixture
def ids():
    return EventIds()


@pytest.fixture
def logged(app, make_app, shops, ids):
    """An application with the recording plugin (the SMS module off: the host alone)."""
    return make_app(PLUGINS_EXTRA=[ids], PLUGINS_DISABLED=["sms"])


def rows(**where) -> list[HostEvent]:
    db.session.expire_all()
    query = select(HostEvent).filter_by(**where).order_by(HostEvent.id)
    return list(db.session.scalars(query))


def committed_count(target_id: int, hook: str) -> int:
    """Count the events another connection sees: what was committed."""
    with db.engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM host_event WHERE target_id = :t AND hook = :h"),
            {"t": target_id, "h": hook},
        ).scalar()


def new_appointment(shops) -> Appointment:
    return Appointment(
        company_id=shops["a"]["shop"],
        customer_id=shops["a"]["customer"],
        starts_at=datetime.now(UTC) + timedelta(days=3),
        vehicle="Golf",
        status=AppointmentStatus.BOOKED,
    )


def test_a_committed_booking_has_one_event_committed_with_it(logged, ids, shops):
    client = logged.test_client()
    login(client, shops["a"]["staff"])
    starts = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    data = {"customer_id": shops["a"]["customer"], "starts_at": starts, "vehicle": "Golf"}
    response = client.post("/appointments/new", data={**data, "status": "booked"})
    assert response.status_code == 302, response.get_data(as_text=True)
    aid = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with logged.app_context():
        [row] = rows(target_id=aid, hook="appointment_changed")
        assert row.created is True and row.company_id == shops["a"]["shop"]
        assert {"starts_at", "vehicle", "status"} <= set(row.changes)
        assert row.changes == sorted(row.changes)
        assert committed_count(aid, "appointment_changed") == 1
    # The hook got the row's id as event_id.
    assert ids.calls == [("appointment_changed", aid, row.id)]


def test_a_rolled_back_save_leaves_no_event(logged, ids, shops):
    with logged.app_context():
        before = len(rows())
        appointment = new_appointment(shops)
        db.session.add(appointment)
        db.session.flush()
        db.session.rollback()
        assert len(rows()) == before
    assert ids.calls == []


def test_a_commit_that_fails_after_the_event_row_is_flushed_loses_both(logged, ids, shops):
    seen_in_transaction = []

    def refuse(session):
        # Inside the commit: the event row is already in the transaction.
        seen_in_transaction.append(session.scalar(select(func.count()).select_from(HostEvent)))
        raise RuntimeError("the database refused the commit")

    with logged.app_context():
        before = len(rows())
        session = db.session()
        event.listen(session, "before_commit", refuse)
        try:
            db.session.add(new_appointment(shops))
            with pytest.raises(RuntimeError):
                db.session.commit()
        finally:
            event.remove(session, "before_commit", refuse)
        db.session.rollback()
        assert seen_in_transaction == [before + 1]  # written with the save...
        assert len(rows()) == before  # ...and rolled back with it
        assert db.session.scalar(select(func.count()).where(Appointment.vehicle == "Golf")) == 0
    assert ids.calls == []


def test_flushes_of_one_transaction_are_one_event(logged, ids, shops):
    with logged.app_context():
        appointment = new_appointment(shops)
        db.session.add(appointment)
        db.session.flush()
        appointment.vehicle = "Golf GTI"
        db.session.flush()
        db.session.commit()
        [row] = rows(target_id=appointment.id, hook="appointment_changed")
        assert row.created is True
    assert [c[2] for c in ids.calls] == [row.id]


def test_a_print_is_an_event_creating_an_invoice_is_not(logged, ids, shops):
    with logged.app_context():
        invoice = db.session.get(Invoice, shops["a"]["invoice"])
        invoice.total = invoice.total + 1
        db.session.commit()
        assert rows(target_id=invoice.id, hook="invoice_printed") == []
        invoice.print_count = (invoice.print_count or 0) + 1
        db.session.commit()
        [row] = rows(target_id=invoice.id, hook="invoice_printed")
        assert row.changes == ["print_count"] and row.created is False
    assert ids.calls == [("invoice_printed", shops["a"]["invoice"], row.id)]


def test_a_plugin_that_does_not_name_event_id_still_gets_its_event(plugin_client, plugin, shops):
    # The recording plugin was written before event_id: pluggy passes what it names.
    login(plugin_client, shops["a"]["staff"])
    assert plugin_client.post(f"/invoices/{shops['a']['invoice']}/print").status_code == 302
    assert [c["id"] for c in plugin.received("invoice_printed")] == [shops["a"]["invoice"]]


def test_events_older_than_the_kept_days_are_pruned(logged, shops):
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    with logged.app_context():
        db.session.execute(HostEvent.__table__.delete())
        for days in (8, 7.5, 6.9, 0):
            db.session.add(
                HostEvent(
                    hook="customer_saved",
                    target_id=shops["a"]["customer"],
                    changes=[],
                    created=False,
                    occurred_at=now - timedelta(days=days),
                )
            )
        db.session.commit()
        assert logged.config["HOST_EVENT_KEEP_DAYS"] == 7
        assert prune(now) == 2
        kept = sorted(now - r.occurred_at for r in rows())
        assert kept == [timedelta(0), timedelta(days=6.9)]
        logged.config["HOST_EVENT_KEEP_DAYS"] = 1
        assert prune(now) == 1
    tasks = {t.name: t for t in logged.extensions["periodic_tasks"]}
    assert tasks["host-event-prune"].function is prune


def test_an_event_id_is_never_given_again_after_the_newest_are_pruned(logged, shops):
    # Plugins key their work by event_id: a reused id would pass a new event for an old one.
    with logged.app_context():
        appointment = new_appointment(shops)
        db.session.add(appointment)
        db.session.commit()
        newest = max(r.id for r in rows())
        logged.config["HOST_EVENT_KEEP_DAYS"] = 0
        prune(datetime.now(UTC) + timedelta(seconds=1))
        assert rows() == []
        appointment.vehicle = "Polo"
        db.session.commit()
        [row] = rows()
        assert row.id > newest
