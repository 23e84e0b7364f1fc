"""The start page's failed and refused messages of the last 7 days, and sending a refused
message again (``notifications.resend``; issue 12, point 7): once its cause is fixed, once
only, never a message that left, an appointment's text only while still true."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from host.extensions import db
from host.models import Appointment, Company
from plugins.sms_module.models import Direction, FailureCode, Kind, SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import service
from plugins.sms_module.texts.reasons import failure_text
from tests.sms_module.views.support import add_message
from tests.sms_module.views.test_home_panel import (
    NOW,
    add_appointment,
    local,
    rows,
    text,
)
from tests.support_pages import page_text
from tests.support_sms import login_en, ready_to_send


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def test_failed_and_refused_of_the_last_7_days(client, app, shops, time_machine):
    a, b = shops["a"], shops["b"]
    phone = "+15145550101"
    time_machine.move_to(NOW - timedelta(days=8), tick=False)
    with app.app_context():
        add_message(a["shop"], phone, "Too old", status=Status.FAILED, failure_code="30003")
    time_machine.move_to(NOW - timedelta(days=6), tick=False)
    with app.app_context():
        carrier = add_message(
            a["shop"], phone, "Carrier", status=Status.UNDELIVERED, failure_code="30003"
        )
        refused = add_message(
            a["shop"],
            phone,
            "Refused",
            status=Status.FAILED,
            failure_code=FailureCode.OPTED_OUT,
            customer_id=a["customer"],
        )
    time_machine.move_to(NOW, tick=False)
    with app.app_context():
        add_message(a["shop"], phone, "Delivered", status=Status.DELIVERED)
        add_message(b["shop"], "+14165550102", "Other shop", status=Status.FAILED)
        recent = add_message(a["shop"], phone, "No code", status=Status.FAILED)
        since = NOW - timedelta(days=7)
        expected = [
            str(m.id)
            for m in db.session.scalars(
                select(SmsMessage)
                .where(
                    SmsMessage.company_id == a["shop"],
                    SmsMessage.direction == Direction.OUTBOUND,
                    SmsMessage.status.in_(("failed", "undelivered")),
                )
                .order_by(SmsMessage.id.desc())
            )
            if (m.updated_at.replace(tzinfo=UTC) if m.updated_at.tzinfo is None else m.updated_at)
            >= since
        ]

    login_en(client, a["admin"])
    response = client.get("/")
    listed = rows(response.text, "home-problems")
    assert (
        [row["message-id"] for row in listed]
        == expected
        == [
            str(recent),
            str(refused),
            str(carrier),
        ]
    )
    assert [row["refused"] for row in listed] == ["no", "yes", "no"]
    text_of_page = page_text(response)
    with app.test_request_context():
        why = failure_text(FailureCode.OPTED_OUT)
    assert why and why in text_of_page and "opted_out" not in text_of_page
    assert "It reached the carrier: not sent again." in text_of_page


def test_a_refused_message_is_fixed_then_sent_again_once(client, app, shops, clock):
    a = shops["a"]
    with app.app_context():
        company, customer = ready_to_send(shops)
        company.province = None
        db.session.commit()
        with pytest.raises(service.SendRefused) as refused:
            service.request_send(company, customer=customer, body="Votre auto est prête")
        old_id = refused.value.message_id
        assert db.session.get(SmsMessage, old_id).failure_code == FailureCode.LOCATION_MISSING

    login_en(client, a["admin"])
    page = client.get("/").text
    [row] = rows(page, "home-problems")
    assert row == {"message-id": str(old_id), "refused": "yes", "resend": "no"}
    assert f'href="/companies/{a["shop"]}" class="fix-link">Open Company management' in page
    assert "Resend once fixed." in page_text(client.get("/"))
    # Not fixed yet: the resend refuses and sends nothing.
    client.post(f"/sms/messages/{old_id}/resend")
    with app.app_context():
        assert db.session.scalar(select(db.func.count(SmsMessage.id))) == 2  # + disclaimer mark

    with app.app_context():
        db.session.get(Company, a["shop"]).province = "QC"
        db.session.commit()
    [row] = rows(client.get("/").text, "home-problems")
    assert row["resend"] == "yes"
    response = client.post(f"/sms/messages/{old_id}/resend")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "The SMS is sent again" in page_text(client.get("/"))
    with app.app_context():
        old = db.session.get(SmsMessage, old_id)
        new = db.session.scalar(
            select(SmsMessage).where(SmsMessage.dedupe_key == f"resend:{old_id}")
        )
        assert old.status == Status.FAILED  # the audit row stays
        assert new.body == old.body and new.customer_id == old.customer_id
        assert new.status in (Status.SCHEDULED, Status.QUEUED) and new.kind == Kind.MANUAL
        count = db.session.scalar(select(db.func.count(SmsMessage.id)))
    # Listed no more; a second click sends nothing more.
    assert rows(client.get("/").text, "home-problems") == []
    client.post(f"/sms/messages/{old_id}/resend")
    with app.app_context():
        assert db.session.scalar(select(db.func.count(SmsMessage.id))) == count


def test_a_message_that_left_is_never_sent_again(client, app, shops, clock):
    a = shops["a"]
    with app.app_context():
        ready_to_send(shops)
        failed = add_message(
            a["shop"],
            "+15145550101",
            "Carrier said no",
            status=Status.UNDELIVERED,
            failure_code="30003",
            customer_id=a["customer"],
        )
        count = db.session.scalar(select(db.func.count(SmsMessage.id)))
    login_en(client, a["staff"])
    client.post(f"/sms/messages/{failed}/resend")
    assert "cannot be sent again" in page_text(client.get("/"))
    with app.app_context():
        assert db.session.scalar(select(db.func.count(SmsMessage.id))) == count
    # Another shop's message is not found; the operator writes to no customer.
    client.post("/logout")
    login_en(client, shops["b"]["admin"])
    assert client.post(f"/sms/messages/{failed}/resend").status_code == 404
    client.post("/logout")
    login_en(client, "operator@example.com")
    assert client.post(f"/sms/messages/{failed}/resend").status_code == 403


def test_an_appointment_text_is_sent_again_only_while_still_true(client, app, shops, clock):
    a = shops["a"]
    with app.app_context():
        ready_to_send(shops)
        starts = local(11, 9)
        ahead = add_appointment(a["shop"], a["customer"], starts)
        moved = add_appointment(a["shop"], a["customer"], local(11, 10))
        fields = {"failure_code": FailureCode.NO_CONSENT, "guard": "upcoming"}
        still_true = text(ahead, Kind.APPOINTMENT_BOOKED, Status.FAILED, starts, **fields)
        # Its text names 9:00; the appointment is now at 10:00: never sent again.
        untrue = text(moved, Kind.APPOINTMENT_BOOKED, Status.FAILED, starts, **fields)
        # An older refused row that names no appointment cannot be checked: not sent again.
        unknown = add_message(
            a["shop"],
            "+15145550101",
            "Rendez-vous",
            status=Status.FAILED,
            kind=Kind.APPOINTMENT_BOOKED,
            customer_id=a["customer"],
            failure_code=FailureCode.NO_CONSENT,
        )
    login_en(client, a["staff"])
    listed = {
        row["message-id"]: row["resend"] for row in rows(client.get("/").text, "home-problems")
    }
    assert listed == {str(still_true): "yes", str(untrue): "no", str(unknown): "no"}
    client.post(f"/sms/messages/{untrue}/resend")
    client.post(f"/sms/messages/{still_true}/resend")
    with app.app_context():
        again = db.session.scalars(
            select(SmsMessage).where(SmsMessage.dedupe_key.like("resend:%"))
        ).all()
        assert [(m.dedupe_key, m.appointment_id, m.guard) for m in again] == [
            (f"resend:{still_true}", ahead, "upcoming")
        ]


def test_a_refused_appointment_text_keeps_its_appointment(client, app, shops, clock):
    """A booking confirmation a rule refused is stored with the appointment it is about,
    so the start page shows it on the appointment's row and can send it again."""
    from plugins.sms_module.compliance import guards

    a = shops["a"]
    with app.app_context():
        company, customer = ready_to_send(shops)
        appointment_id = add_appointment(a["shop"], customer.id, local(11, 9))
        appointment = db.session.get(Appointment, appointment_id)
        company.province = None
        db.session.commit()
        with pytest.raises(service.SendRefused) as refused:
            service.request_send(
                company,
                customer=customer,
                body="Rendez-vous confirmé",
                kind=Kind.APPOINTMENT_BOOKED,
                truth=guards.guard_for(Kind.APPOINTMENT_BOOKED, appointment),
            )
        kept = db.session.get(SmsMessage, refused.value.message_id)
        assert (kept.appointment_id, kept.guard) == (appointment_id, "upcoming")
        assert kept.appointment_starts_at == appointment.starts_at
