"""Each host event through the web app, a real worker and the simulator, to Delivered,
in French (the Quebec shop) and in English (the Ontario shop)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from host.extensions import db
from host.models import Appointment
from plugins.sms_module.carriers.simulator import SimulatorCarrier
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.models.statuses import Status
from tests.conftest import login
from tests.support_pipeline import wait_for
from tests.support_sms import ready_to_send

DONE = {Status.DELIVERED}


@pytest.mark.parametrize("key,language,stop_word", [("a", "fr", "ARRET"), ("b", "en", "STOP")])
def test_events_are_delivered_with_the_disclaimer_first_once(
    app,
    shops,
    serve,
    workers,
    key,
    language,
    stop_word,
):
    url = serve(app)
    app.config["SMS_PUBLIC_BASE_URL"] = url
    pool = workers(SMS_SIMULATOR_CALLBACK_DELAY=0.2)
    pool.env["SMS_PUBLIC_BASE_URL"] = url
    with app.app_context():
        ready_to_send(shops, key, disclaimed=False)
        cid = shops[key]["customer"]
        zone = ZoneInfo(db.session.get(Appointment, shops[key]["appointment"]).company.time_zone)
    pool.start()
    client = app.test_client()
    login(client, shops[key]["staff"])
    start = (datetime.now(UTC) + timedelta(days=3)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    booked = client.post(
        "/appointments/new",
        data={"customer_id": cid, "starts_at": start, "vehicle": "RAV4", "status": "booked"},
    )
    assert booked.status_code == 302
    aid = int(booked.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():

        def booking_confirmed():
            db.session.expire_all()
            return db.session.scalar(
                select(SmsMessage).where(
                    SmsMessage.customer_id == cid,
                    SmsMessage.kind == "appointment_booked",
                    SmsMessage.status == Status.DELIVERED,
                )
            )

        # The confirmation is true while the visit is ahead: it goes before the car is ready.
        wait_for(booking_confirmed, what="the booking confirmation Delivered")
    ready = client.post(
        f"/appointments/{aid}",
        data={"customer_id": cid, "starts_at": start, "vehicle": "RAV4", "status": "ready"},
    )
    assert ready.status_code == 302
    assert client.post(f"/invoices/{shops[key]['invoice']}/print").status_code == 302

    expected = ["disclaimer", "appointment_booked", "vehicle_ready", "invoice_printed"]
    with app.app_context():

        def sent_now():
            db.session.expire_all()
            rows = db.session.scalars(
                select(SmsMessage).where(
                    SmsMessage.customer_id == cid, SmsMessage.kind != "appointment_reminder"
                )
            ).all()
            return (
                rows
                if sorted(m.kind for m in rows) == sorted(expected)
                and all(m.status in DONE for m in rows)
                else None
            )

        rows = wait_for(sent_now, what="every message Delivered")
        by_kind = {m.kind: m for m in rows}
        disclaimer = by_kind["disclaimer"]
        assert stop_word in disclaimer.body.upper()
        carrier = SimulatorCarrier.from_config(app.config)
        taken = {m.kind: carrier.fetch(m.provider_sid).date_created for m in rows}
        # The carrier took the disclaimer before any other message, and only one of them.
        assert all(taken["disclaimer"] < t for k, t in taken.items() if k != "disclaimer")
        reminder = db.session.scalar(
            select(SmsMessage).where(
                SmsMessage.customer_id == cid, SmsMessage.kind == "appointment_reminder"
            )
        )
        # Due in two days, but the vehicle is ready: the reminder is withdrawn, never sent.
        assert reminder.status == Status.CANCELED and reminder.provider_sid is None
        assert reminder.history[-1].detail == "appointment_not_upcoming: ready"
        if language == "fr":
            assert "ARRET" in disclaimer.body.upper()
