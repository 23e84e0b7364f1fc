"""The lists of the SMS module's start-page panel (issue 12, point 7), each read from the
database as it is now: today's and tomorrow's appointments with their texts' state, the
conversations with unread replies, and the messages that failed or were refused lately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
from plugins.sms_module.models import Direction, FailureCode, Kind, SmsMessage, Status
from plugins.sms_module.models.statuses import is_refusal
from plugins.sms_module.notifications.resend import resend_allowed, resent_ids, still_refused
from plugins.sms_module.reports.cells import KIND_LABELS
from plugins.sms_module.texts.reasons import failure_text
from plugins.sms_module.views.inbox import excerpt

PROBLEM_DAYS = 7  # how far back the failed and refused messages are listed
MAX_ROWS = 50  # rows a list shows; the count above it says how many there are
CONFIRMATIONS = (Kind.APPOINTMENT_BOOKED, Kind.APPOINTMENT_MOVED)
TEXT_STATES = {
    "scheduled": _l("scheduled"),
    "sent": _l("sent"),
    "delivered": _l("delivered"),
    "failed": _l("failed"),
    "refused": _l("refused"),
    "canceled": _l("canceled"),
    "none": _l("none"),
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


@dataclass(frozen=True)
class Problem:
    """A message that failed or was refused: why, where to fix it, and whether it may be
    sent again now (``blocker``: what still stops it; ``None`` once fixed)."""

    message: SmsMessage
    why: str
    refused: bool
    fix_url: str | None
    fix_label: str
    resendable: bool
    blocker: str | None

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.message.kind, self.message.kind))


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


# Failed and refused messages, and their resend ---------------------------------------------


def failed_or_refused(shop: Company, now: datetime) -> tuple[list[Problem], int]:
    """Return the shop's outbound messages that failed or were refused in the last
    ``PROBLEM_DAYS`` days (by their last change), newest first, less those already sent
    again from here (at most ``MAX_ROWS``), and how many there are in all."""
    since = now - timedelta(days=PROBLEM_DAYS)
    condition = (
        (SmsMessage.company_id == shop.id)
        & (SmsMessage.direction == Direction.OUTBOUND)
        & SmsMessage.status.in_((Status.FAILED, Status.UNDELIVERED))
        & (SmsMessage.updated_at >= since)
    )
    candidates = list(
        db.session.execute(select(SmsMessage.id).where(condition).order_by(SmsMessage.id.desc()))
        .scalars()
        .all()
    )
    resent = resent_ids(candidates)
    kept = [i for i in candidates if i not in resent]
    shown = kept[:MAX_ROWS]
    messages = {
        m.id: m for m in db.session.scalars(select(SmsMessage).where(SmsMessage.id.in_(shown)))
    }
    return [problem(messages[i], shop) for i in shown], len(kept)


def problem(message: SmsMessage, shop: Company) -> Problem:
    """Describe ``message``'s failure for the start page."""
    refused = is_refusal(message.status, message.failure_code)
    fix_url, fix_label = fix_link(message, shop)
    blocker = None
    resendable = refused and resend_allowed(message)
    if resendable:
        refusal = still_refused(message, shop)
        blocker = refusal.message if refusal is not None else None
    return Problem(
        message,
        failure_text(message.failure_code, message.failure_reason),
        refused,
        fix_url,
        fix_label,
        resendable,
        blocker,
    )


def fix_link(message: SmsMessage, shop: Company) -> tuple[str | None, str]:
    """Return where the cause of ``message``'s failure is fixed, and the link's words."""
    code = message.failure_code
    if code == FailureCode.MODULE_OFF:
        return url_for("companies.options", company_id=shop.id), _("Open the Options tab")
    if code in (FailureCode.V2V_MISSING, FailureCode.LOCATION_MISSING):
        return url_for("companies.edit", company_id=shop.id), _("Open Company management")
    if message.customer_id is None:
        return None, ""
    if code in (FailureCode.NO_PHONE, FailureCode.INVALID_PHONE, FailureCode.NO_CONSENT):
        return (
            url_for("customers.show", customer_id=message.customer_id),
            _("Open the customer's information"),
        )
    return url_for("sms_customer.show", customer_id=message.customer_id), _(
        "Open the customer's SMS"
    )
