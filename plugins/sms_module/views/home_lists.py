"""The lists of the SMS module's start-page panel (issue 12, point 7), each read from the
database as it is now: today's and tomorrow's appointments with their texts' state, the
conversations with unread replies (the messages that failed or were refused lately:
``home_problems``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select

from host.api import (
    Appointment,
    AppointmentStatus,
    Company,
    Customer,
    appointment_status_label,
    db,
    shop_zone,
)
from plugins.sms_module.models import Direction, Kind, SmsMessage, Status
from plugins.sms_module.models.statuses import is_refusal
from plugins.sms_module.texts.preview import LABELS, refused_label
from plugins.sms_module.texts.reasons import failure_text
from plugins.sms_module.views.inbox import excerpt

MAX_ROWS = 50  # rows a list shows; the count above it says how many there are
CONFIRMATIONS = (Kind.APPOINTMENT_BOOKED, Kind.APPOINTMENT_MOVED)
# The state of an appointment's text in the words the rest of the module uses for a
# message's status (``texts.preview.LABELS``, ``refused_label``: "Delivered" / "Livré"),
# capitalised like a table's cell (issue 12 review, point 5).
TEXT_STATES = {
    "scheduled": LABELS[Status.SCHEDULED],
    "sent": LABELS[Status.SENT],
    "delivered": LABELS[Status.DELIVERED],
    "failed": LABELS[Status.FAILED],
    "refused": LazyString(refused_label),
    "canceled": LABELS[Status.CANCELED],
    "none": _l("No SMS"),
}


@dataclass(frozen=True)
class TextState:
    """Where an appointment's text is: ``state`` (a key of ``TEXT_STATES``), when it leaves
    or last changed, and why it failed or was refused."""

    state: str
    at: datetime | None = None
    why: str = ""

    @property
    def label(self) -> str:
        return str(TEXT_STATES[self.state])


@dataclass(frozen=True)
class AppointmentTexts:
    appointment: Appointment
    confirmation: TextState
    reminder: TextState

    @property
    def status_label(self) -> str:
        return appointment_status_label(self.appointment.status)


@dataclass(frozen=True)
class Unread:
    """A conversation with replies nobody opened yet."""

    phone: str
    customer: Customer | None
    count: int
    last_at: datetime
    last_body: str


# Appointments and their texts ----------------------------------------------------------


def day_bounds(shop: Company, now: datetime) -> tuple[datetime, datetime]:
    """Return the start of today and of the day after tomorrow in the shop's zone, as
    aware datetimes (the appointments listed start in between)."""
    zone = shop_zone(shop)
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time.min, tzinfo=zone)
    end = datetime.combine(today + timedelta(days=2), time.min, tzinfo=zone)
    return start, end


def appointments_ahead(shop: Company, now: datetime) -> list[AppointmentTexts]:
    """Return the shop's appointments of today and tomorrow (shop time), not cancelled, by
    start, each with the state of its confirmation and of its reminder."""
    start, end = day_bounds(shop, now)
    rows = list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.company_id == shop.id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
                Appointment.status != AppointmentStatus.CANCELLED,
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )
    texts: dict[int, list[SmsMessage]] = {a.id: [] for a in rows}
    if rows:
        for message in db.session.scalars(
            select(SmsMessage)
            .where(
                SmsMessage.appointment_id.in_(list(texts)),
                SmsMessage.kind.in_((*CONFIRMATIONS, Kind.APPOINTMENT_REMINDER)),
            )
            .order_by(SmsMessage.id)
        ):
            texts[message.appointment_id].append(message)
    result = []
    for appointment in rows:
        found = texts[appointment.id]
        confirmations = [m for m in found if m.kind in CONFIRMATIONS]
        reminders = [
            m
            for m in found
            if m.kind == Kind.APPOINTMENT_REMINDER
            and m.appointment_starts_at == appointment.starts_at
        ]
        result.append(
            AppointmentTexts(
                appointment,
                text_state(confirmations[-1] if confirmations else None),
                text_state(reminders[-1] if reminders else None),
            )
        )
    return result


def text_state(message: SmsMessage | None) -> TextState:
    """Return where ``message`` is, in the words of the start page."""
    if message is None:
        return TextState("none")
    status = Status(message.status)
    if status in (Status.ACCEPTED, Status.SCHEDULED, Status.QUEUED, Status.SENDING):
        return TextState("scheduled", message.send_at)
    if status in (Status.SENT, Status.DELIVERED, Status.CANCELED):
        return TextState(status.value, message.updated_at)
    why = failure_text(message.failure_code, message.failure_reason)
    state = "refused" if is_refusal(status, message.failure_code) else "failed"
    return TextState(state, message.updated_at, why)


# Unread replies ----------------------------------------------------------------------------


def unread_replies(shop: Company) -> list[Unread]:
    """Return the shop's conversations with unread replies, the latest reply first."""
    last_id = func.max(SmsMessage.id)
    rows = db.session.execute(
        select(SmsMessage.phone, func.count(), last_id)
        .where(
            SmsMessage.company_id == shop.id,
            SmsMessage.direction == Direction.INBOUND,
            SmsMessage.read_at.is_(None),
        )
        .group_by(SmsMessage.phone)
        .order_by(last_id.desc())
        .limit(MAX_ROWS)
    ).all()
    if not rows:
        return []
    last = {
        m.id: m
        for m in db.session.scalars(
            select(SmsMessage).where(SmsMessage.id.in_([r[2] for r in rows]))
        )
    }
    customers = {
        c.mobile_phone: c
        for c in db.session.scalars(
            select(Customer)
            .where(Customer.company_id == shop.id, Customer.mobile_phone.in_([r[0] for r in rows]))
            .order_by(Customer.id.desc())
        )
    }  # the lowest id wins, as in a send
    return [
        Unread(phone, customers.get(phone), count, last[m_id].created_at, excerpt(last[m_id].body))
        for phone, count, m_id in rows
    ]
