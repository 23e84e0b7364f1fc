"""What each host event sends (PRODUCT.md §10), run by the event jobs behind the thin hooks.

Every message carries a dedupe key naming its event, so the same event delivered
twice sends once. Nothing is sent for a shop whose module is off.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from host.api import Appointment, AppointmentStatus, Customer, Invoice, db, utcnow
from plugins.sms_module.compliance import guards, rules
from plugins.sms_module.compliance.consent import latest_consent
from plugins.sms_module.models import ConsentKind, Kind, SmsMessage, Source, Status, lifecycle
from plugins.sms_module.models.codes import Step, Withdrawal
from plugins.sms_module.models.statuses import CANCELABLE
from plugins.sms_module.notifications.event_texts import send_event
from plugins.sms_module.notifications.reminders import (
    cancel_reminders,
    reminder_key,
    schedule_reminder,
)
from plugins.sms_module.sending import withdrawal
from plugins.sms_module.texts import templates

# A consent recorded this long before a customer's save was given with that save.
WELCOME_WITHIN = timedelta(minutes=5)


def appointment_changed(
    appointment: Appointment, changes: dict, created: bool, event_id: str | None = None
) -> None:
    """Confirm, update, cancel, remind, or say the vehicle is ready; first withdraw what the
    change made untrue (``withdraw_untrue``).

    Nothing is sent about a visit that is not ahead: an appointment booked in the past or
    created already cancelled, in progress or completed sends nothing but, for one created
    Ready, "your vehicle is ready". An appointment back to booked or confirmed gets its
    reminder again, and is confirmed again if the customer's last word was its cancellation.
    ``event_id`` makes each change's keys its own: a retried job sends once, and a time, or
    a status, the appointment comes back to is told again.
    """
    withdraw_untrue(appointment.id)
    company = appointment.company
    if not rules.module_on(company.id):
        return
    status = appointment.status
    ahead = appointment.starts_at > utcnow()
    upcoming = ahead and status in guards.UPCOMING_STATUSES

    def send(event: str, what: str) -> None:
        key = f"appointment:{appointment.id}:{what}" + (f":{event_id}" if event_id else "")
        send_event(company, event, appointment.customer, key, appointment=appointment)

    if status == AppointmentStatus.CANCELLED:
        if "status" in changes and not created:
            cancel_reminders(appointment.id, Step.APPOINTMENT_CANCELLED)
            if ahead:
                send(templates.APPOINTMENT_CANCELLED, "cancelled")
        return
    if created and upcoming:
        send(templates.APPOINTMENT_BOOKED, "booked")
        schedule_reminder(appointment, event_id)
    elif "starts_at" in changes and not created:
        # The reminder for the new time stays if an earlier job already scheduled it.
        cancel_reminders(appointment.id, Withdrawal.MOVED, keep=reminder_key(appointment))
        if upcoming:
            if not told_this_time(appointment):
                send(templates.APPOINTMENT_MOVED, f"moved:{appointment.starts_at.isoformat()}")
            schedule_reminder(appointment, event_id)
    elif "status" in changes and upcoming and not created:
        # Back to booked or confirmed (a cancel undone, a status set by mistake).
        if last_word(appointment.id) == Kind.APPOINTMENT_CANCELLED:
            send(templates.APPOINTMENT_BOOKED, "booked")
        schedule_reminder(appointment, event_id)
    if "status" in changes and status == AppointmentStatus.READY:
        send(templates.VEHICLE_READY, "ready")


def _last_told(appointment_id: int):
    """The kind and named start of the last booked, moved or cancelled text about the
    appointment that was not withdrawn nor refused (what the customer last heard of it)."""
    told = (Kind.APPOINTMENT_BOOKED, Kind.APPOINTMENT_MOVED, Kind.APPOINTMENT_CANCELLED)
    return db.session.execute(
        select(SmsMessage.kind, SmsMessage.appointment_starts_at)
        .where(
            SmsMessage.appointment_id == appointment_id,
            SmsMessage.kind.in_(told),
            SmsMessage.status.not_in((Status.CANCELED, Status.FAILED)),
        )
        .order_by(SmsMessage.id.desc())
        .limit(1)
    ).first()


def last_word(appointment_id: int) -> str | None:
    """Return the kind of what the customer last heard of the appointment (``_last_told``),
    or ``None``."""
    found = _last_told(appointment_id)
    return found.kind if found is not None else None


def told_this_time(appointment: Appointment) -> bool:
    """Tell whether the customer's last word of the appointment is a booking or a move that
    named its present start. A move's job that runs late, after the appointment moved on or
    came back, reads the present start: when that is what the customer was last told (an
    earlier job's "moved", or the booking itself), the move has nothing new to say, and
    a worker catching up on many moves sends one text, not one per move (PRODUCT.md §10)."""
    found = _last_told(appointment.id)
    named = (Kind.APPOINTMENT_BOOKED, Kind.APPOINTMENT_MOVED)
    return (
        found is not None
        and found.kind in named
        and found.appointment_starts_at == appointment.starts_at
    )


def withdraw_untrue(appointment_id: int) -> int:
    """Cancel the appointment's messages that have not left and are no longer true
    (``guards.stale``: completed, in progress, moved, cancelled, picked up); return how many."""
    now = utcnow()
    return withdrawal.withdraw_where(
        SmsMessage.appointment_id == appointment_id,
        source=Source.MODULE,
        reason=lambda message: guards.stale(message, now),
    )


def invoice_printed(invoice: Invoice) -> None:
    """Thank the customer when the invoice is printed (once per invoice)."""
    company = invoice.company
    if rules.module_on(company.id):
        send_event(
            company,
            templates.INVOICE_PRINTED,
            invoice.customer,
            f"invoice:{invoice.id}:printed",
            invoice=invoice,
        )


def customer_saved(
    customer: Customer, changes: dict, created: bool, saved_at: datetime | None = None
) -> None:
    """Welcome a customer who just consented; stop everything for one who withdrew;
    send what is still waiting to the customer's new phone.

    Consent counts as newly given when it was recorded with this save: in the
    ``WELCOME_WITHIN`` before ``saved_at`` (the commit), not after it.
    """
    company = customer.company
    if "mobile_phone" in changes and not created:
        repoint_waiting(customer)
    event = latest_consent(customer.id)
    if event is None:
        return
    if event.kind == ConsentKind.WITHDRAWN:
        withdrawal.cancel_scheduled(customer.id, Source.MODULE, Step.CONSENT_WITHDRAWN)
        return
    if not rules.module_on(company.id):
        return
    saved_at = saved_at or utcnow()
    newly_given = saved_at - WELCOME_WITHIN <= event.recorded_at <= saved_at
    if event.kind == ConsentKind.GIVEN and newly_given:
        key = f"customer:{customer.id}:welcome:{event.id}"
        send_event(company, templates.WELCOME, customer, key)


def repoint_waiting(customer: Customer) -> None:
    """Address the customer's messages that have not left to the new phone (or cancel them
    when the phone was removed); the new phone gets its own disclaimer first."""
    rows = db.session.scalars(
        select(SmsMessage)
        .where(
            SmsMessage.customer_id == customer.id,
            SmsMessage.status.in_(CANCELABLE),
            SmsMessage.kind != Kind.DISCLAIMER,
        )
        .with_for_update()
    ).all()
    for message in rows:
        if customer.mobile_phone:
            message.phone = customer.mobile_phone
        else:
            lifecycle.withdraw(message, Source.MODULE, Step.PHONE_REMOVED)
    db.session.commit()
