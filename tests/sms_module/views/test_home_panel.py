"""The start page's SMS panel (``views.home_panel``; issue 12, point 7): each list matches the
database, with the clock set (the failed and refused messages and their resend:
test_home_resend.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from host.extensions import db
from host.models import Appointment, AppointmentStatus, Customer
from plugins.sms_module.models import Direction, FailureCode, Kind, SmsMessage
from plugins.sms_module.models.statuses import Status, is_refusal
from tests.sms_module.views.support import add_message, add_reply
from tests.support_pages import page_text
from tests.support_sms import login_en, ready_to_send

# Tuesday 10 March 2026, 10:00 in Montreal (EDT, UTC-4): today is the 10th, tomorrow the 11th.
NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
MONTREAL = ZoneInfo("America/Toronto")


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=MONTREAL).astimezone(UTC)


def add_appointment(shop_id: int, customer_id: int, starts_at: datetime, **fields) -> int:
    appointment = Appointment(
        company_id=shop_id, customer_id=customer_id, starts_at=starts_at, vehicle="Civic", **fields
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment.id


def text(appointment_id: int, kind: str, status: Status, starts_at: datetime, **fields) -> int:
    customer = db.session.get(Appointment, appointment_id).customer
    return add_message(
        customer.company_id,
        customer.mobile_phone,
        "Votre rendez-vous",
        status=status,
        kind=kind,
        customer_id=customer.id,
        appointment_id=appointment_id,
        appointment_starts_at=starts_at,
        send_at=starts_at - timedelta(hours=24),
        **fields,
    )


def rows(html: str, table: str) -> list[dict[str, str]]:
    """Return the data-* attributes of each row of table ``table``."""
    body = re.search(rf'<table id="{table}">(.*?)</table>', html, re.S)
    if body is None:
        return []
    return [
        dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tr))
        for tr in re.findall(r"<tr ([^>]*data-[^>]*)>", body.group(1))
    ]


def expected_state(message: SmsMessage | None) -> str:
    """The state the start page gives a text, written again from the statuses."""
    if message is None:
        return "none"
    if message.status in ("accepted", "scheduled", "queued", "sending"):
        return "scheduled"
    if message.status in ("failed", "undelivered"):
        return "refused" if is_refusal(message.status, message.failure_code) else "failed"
    return str(message.status)


def expected_appointments(shop_id: int) -> list[dict[str, str]]:
    """Today's and tomorrow's appointments of the shop, read from the database."""
    today = NOW.astimezone(MONTREAL).date()
    found = []
    for a in db.session.scalars(
        select(Appointment).where(Appointment.company_id == shop_id).order_by(Appointment.id)
    ):
        starts = a.starts_at.replace(tzinfo=UTC) if a.starts_at.tzinfo is None else a.starts_at
        day = starts.astimezone(MONTREAL).date()
        if (day - today).days not in (0, 1) or a.status == AppointmentStatus.CANCELLED:
            continue
        messages = db.session.scalars(
            select(SmsMessage).where(SmsMessage.appointment_id == a.id).order_by(SmsMessage.id)
        ).all()
        confirmations = [
            m for m in messages if m.kind in ("appointment_booked", "appointment_moved")
        ]
        reminders = [
            m
            for m in messages
            if m.kind == "appointment_reminder" and m.appointment_starts_at == a.starts_at
        ]
        found.append(
            (
                starts,
                a.id,
                {
                    "appointment-id": str(a.id),
                    "confirmation": expected_state(confirmations[-1] if confirmations else None),
                    "reminder": expected_state(reminders[-1] if reminders else None),
                },
            )
        )
    return [row for _starts, _id, row in sorted(found, key=lambda f: (f[0], f[1]))]


def test_appointments_of_today_and_tomorrow_with_their_texts(client, app, shops, clock):
    a, b = shops["a"], shops["b"]
    with app.app_context():
        ready_to_send(shops)
        ids = {
            "today": add_appointment(a["shop"], a["customer"], local(10, 16)),
            "tomorrow_late": add_appointment(a["shop"], a["customer"], local(11, 23, 30)),
            "tomorrow": add_appointment(a["shop"], a["customer"], local(11, 9)),
            "earlier_today": add_appointment(a["shop"], a["customer"], local(10, 8)),
            "refused": add_appointment(a["shop"], a["customer"], local(11, 11)),
            "failed": add_appointment(a["shop"], a["customer"], local(11, 12)),
            "moved": add_appointment(a["shop"], a["customer"], local(11, 13)),
        }
        # Not listed: after tomorrow (shop time), yesterday, cancelled, another shop's.
        add_appointment(a["shop"], a["customer"], local(12, 0, 30))
        add_appointment(a["shop"], a["customer"], local(9, 23, 30))
        add_appointment(a["shop"], a["customer"], local(10, 17), status=AppointmentStatus.CANCELLED)
        add_appointment(b["shop"], b["customer"], local(10, 16))

        text(ids["today"], Kind.APPOINTMENT_BOOKED, Status.DELIVERED, local(10, 16))
        text(ids["today"], Kind.APPOINTMENT_REMINDER, Status.SENT, local(10, 16))
        text(ids["tomorrow"], Kind.APPOINTMENT_BOOKED, Status.SENT, local(11, 9))
        text(ids["tomorrow"], Kind.APPOINTMENT_REMINDER, Status.SCHEDULED, local(11, 9))
        text(
            ids["refused"],
            Kind.APPOINTMENT_BOOKED,
            Status.FAILED,
            local(11, 11),
            failure_code=FailureCode.NO_CONSENT,
        )
        text(
            ids["failed"],
            Kind.APPOINTMENT_BOOKED,
            Status.UNDELIVERED,
            local(11, 12),
            failure_code="30003",
        )
        # Moved: the first confirmation and the reminder of the old time are history.
        text(ids["moved"], Kind.APPOINTMENT_BOOKED, Status.DELIVERED, local(11, 10))
        text(ids["moved"], Kind.APPOINTMENT_REMINDER, Status.CANCELED, local(11, 10))
        text(ids["moved"], Kind.APPOINTMENT_MOVED, Status.QUEUED, local(11, 13))
        expected = expected_appointments(a["shop"])

    login_en(client, a["staff"])
    page = client.get("/").text
    assert rows(page, "home-appointments") == expected
    by_id = {row["appointment-id"]: row for row in expected}
    assert by_id[str(ids["today"])] == {
        "appointment-id": str(ids["today"]),
        "confirmation": "delivered",
        "reminder": "sent",
    }
    assert by_id[str(ids["tomorrow"])]["reminder"] == "scheduled"
    assert by_id[str(ids["refused"])]["confirmation"] == "refused"
    assert by_id[str(ids["failed"])]["confirmation"] == "failed"
    assert by_id[str(ids["moved"])] == {
        "appointment-id": str(ids["moved"]),
        "confirmation": "scheduled",
        "reminder": "none",
    }
    assert [row["appointment-id"] for row in expected] == [
        str(ids[k])
        for k in (
            "earlier_today",
            "today",
            "tomorrow",
            "refused",
            "failed",
            "moved",
            "tomorrow_late",
        )
    ]
    text_of_page = page_text(client.get("/"))
    # Times in the shop's zone, never ISO; reasons in words, never codes.
    today = re.search(rf'href="/appointments/{ids["today"]}">([^<]*)<', page).group(1)
    assert today.startswith("Mar 10, 2026, 4:00")  # 20:00 UTC, 4 p.m. in Montreal
    assert "2026-03-10T" not in text_of_page and "no_consent" not in text_of_page


def test_unread_replies_link_to_their_conversation(client, app, shops, clock):
    a, b = shops["a"], shops["b"]
    with app.app_context():
        ready_to_send(shops)
        add_reply(a["shop"], "+15145550101", "Oui")
        add_reply(a["shop"], "+15145550101", "Je serai là")
        add_reply(a["shop"], "+15145550177", "Qui est-ce?")
        add_reply(a["shop"], "+15145550188", "Déjà lu", read_at=NOW)
        add_reply(b["shop"], "+14165550102", "Other shop")
        add_reply(None, "+15145550199", "Nobody's")
        add_message(a["shop"], "+15145550166", "Outbound, not a reply")
        expected = {}
        for m in db.session.scalars(
            select(SmsMessage).where(
                SmsMessage.company_id == a["shop"],
                SmsMessage.direction == Direction.INBOUND,
                SmsMessage.read_at.is_(None),
            )
        ):
            expected[m.phone] = expected.get(m.phone, 0) + 1

    login_en(client, a["staff"])
    page = client.get("/").text
    found = {row["phone"]: int(row["unread"]) for row in rows(page, "home-unread")}
    assert found == expected == {"+15145550101": 2, "+15145550177": 1}
    assert 'href="/sms/replies/+15145550101">Client A</a>' in page
    # Opening the conversation reads the replies: the start page no longer lists them.
    client.get("/sms/replies/+15145550101")
    assert [r["phone"] for r in rows(client.get("/").text, "home-unread")] == ["+15145550177"]


def test_the_operator_sees_the_queues_backlog(client, app, shops, clock):
    with app.app_context():
        for segments in (1, 2, 3):
            add_message(
                shops["a"]["shop"],
                "+15145550101",
                "Due",
                status=Status.SCHEDULED,
                send_at=NOW - timedelta(minutes=1),
                segments=segments,
            )
        add_message(
            shops["a"]["shop"],
            "+15145550101",
            "Later",
            status=Status.SCHEDULED,
            send_at=NOW + timedelta(days=1),
            segments=5,
        )
        customer = db.session.get(Customer, shops["a"]["customer"])
        assert customer is not None
    login_en(client, "operator@example.com")
    page = client.get("/").text
    queues = rows(page, "home-queues")
    # Due now: 3 messages of 6 segments; four enabled transactional numbers at 1 segment/s.
    assert queues[0] == {"messages": "3", "segments": "6"}
    assert queues[1] == {"messages": "0", "segments": "0"}
    assert "Shops" in page and "/sms/operations/" in page
    # A shop user sees no queue.
    client.post("/logout")
    login_en(client, shops["a"]["staff"])
    assert "home-queues" not in client.get("/").text
