"""What the host's events send (PRODUCT.md §10): the services behind the thin hooks.

Every message carries a dedupe key naming its event, so the same event delivered
twice sends once. Nothing is sent for a shop whose module is off.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from host.extensions import db
from host.models import Appointment, AppointmentStatus, Company, Customer, Invoice, utcnow
from plugins.sms_module import message_templates as templates
from plugins.sms_module import services
from plugins.sms_module.consent import latest_consent
from plugins.sms_module.lifecycle import move
from plugins.sms_module.models import ConsentKind, ShopSmsSettings, SmsMessage
from plugins.sms_module.statuses import CANCELABLE, Status

log = logging.getLogger(__name__)

# A consent recorded this long before a customer's save was given with that save.
WELCOME_WITHIN = timedelta(minutes=5)


def send_event(
    company: Company,
    event: str,
    customer: Customer,
    dedupe_key: str,
    send_at: datetime | None = None,
    **objects,
) -> SmsMessage | None:
    """Render the shop's template for ``event`` and ask the send service to send it."""
    if not customer.mobile_phone:
        return None
    language = templates.message_language(customer, company)
    body = templates.render_event(company, event, language, customer=customer, **objects)
    if body is None:  # the shop switched this message off
        return None
    try:
        return services.request_send(
            company,
            customer=customer,
            body=body,
            kind=event,
            source="event",
            send_at=send_at,
            dedupe_key=dedupe_key,
        )
    except services.SendRefused as refused:
        log.info("%s for customer %s not sent: %s", event, customer.id, refused.code)
        return None


def appointment_changed(appointment: Appointment, changes: dict, created: bool) -> None:
    """Confirm, update, cancel, remind, or say the vehicle is ready."""
    company = appointment.company
    if not services.module_enabled(company):
        return
    customer = appointment.customer
    status = appointment.status
    key = f"appointment:{appointment.id}"
    if status == AppointmentStatus.CANCELLED:
        if created or "status" in changes:
            cancel_reminders(appointment.id, "appointment cancelled")
            send_event(
                company,
                templates.APPOINTMENT_CANCELLED,
                customer,
                f"{key}:cancelled",
                appointment=appointment,
            )
        return
    if created:
        send_event(
            company,
            templates.APPOINTMENT_BOOKED,
            customer,
            f"{key}:booked",
            appointment=appointment,
        )
        schedule_reminder(appointment)
    elif "starts_at" in changes:
        when = appointment.starts_at.isoformat()
        # The reminder for the new time stays if an earlier job already scheduled it.
        cancel_reminders(appointment.id, "appointment moved", keep=reminder_key(appointment))
        send_event(
            company,
            templates.APPOINTMENT_MOVED,
            customer,
            f"{key}:moved:{when}",
            appointment=appointment,
        )
        schedule_reminder(appointment)
    if "status" in changes and status == AppointmentStatus.READY:
        send_event(
            company, templates.VEHICLE_READY, customer, f"{key}:ready", appointment=appointment
        )


def reminder_time(appointment: Appointment, now: datetime | None = None) -> datetime | None:
    """Return when to remind: the shop's lead before the start, moved out of the night,
    never in the past; ``None`` when no sensible time is left."""
    config = current_app.config
    now = now or utcnow()
    zone = ZoneInfo(appointment.company.time_zone or "UTC")
    quiet_start, quiet_end = (
        time(config["SMS_QUIET_START_HOUR"]),
        time(config["SMS_QUIET_END_HOUR"]),
    )
    lead = timedelta(hours=reminder_hours(appointment.company_id))
    at = (appointment.starts_at - lead).astimezone(zone)
    if at.time() >= quiet_start or at.time() < quiet_end:
        # At night: the evening before the quiet hours begin, one hour before they do.
        day = at.date() if at.time() >= quiet_start else at.date() - timedelta(days=1)
        at = datetime.combine(day, quiet_start, zone) - timedelta(hours=1)
    if at <= now:
        local_now = now.astimezone(zone).time()
        awake = quiet_end <= local_now < quiet_start
        # Too late for the planned time: now, if it is daytime and the visit is still ahead.
        if not awake or appointment.starts_at - now < timedelta(hours=1):
            return None
        return now
    return at


def reminder_hours(company_id: int) -> int:
    """Return how many hours before an appointment the shop reminds (default 24)."""
    row = db.session.get(ShopSmsSettings, company_id)
    if row is not None:
        return row.reminder_hours_before
    return current_app.config["SMS_REMINDER_HOURS_BEFORE"]


def schedule_reminder(appointment: Appointment) -> SmsMessage | None:
    """Schedule the appointment's reminder (one per start time)."""
    at = reminder_time(appointment)
    if at is None:
        return None
    return send_event(
        appointment.company,
        templates.APPOINTMENT_REMINDER,
        appointment.customer,
        reminder_key(appointment),
        send_at=at,
        appointment=appointment,
    )


def reminder_key(appointment: Appointment) -> str:
    """Return the dedupe key of the appointment's reminder for its current start time."""
    return f"appointment:{appointment.id}:reminder:{appointment.starts_at.isoformat()}"


def cancel_reminders(appointment_id: int, reason: str, keep: str | None = None) -> int:
    """Cancel the appointment's reminders that have not left yet (but the one ``keep``)."""
    rows = db.session.scalars(
        select(SmsMessage)
        .where(
            SmsMessage.dedupe_key.like(f"appointment:{appointment_id}:reminder:%"),
            SmsMessage.dedupe_key != (keep or ""),
            SmsMessage.status.in_(CANCELABLE),
        )
        .with_for_update()
    ).all()
    count = sum(move(m, Status.CANCELED, "module", reason) for m in rows)
    db.session.commit()
    return count


def invoice_printed(invoice: Invoice) -> None:
    """Thank the customer when the invoice is printed (once per invoice)."""
    company = invoice.company
    if services.module_enabled(company):
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
        services.cancel_scheduled(customer.id, "module", "consent withdrawn")
        return
    if not services.module_enabled(company):
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
            SmsMessage.kind != "disclaimer",
        )
        .with_for_update()
    ).all()
    for message in rows:
        if customer.mobile_phone:
            message.phone = customer.mobile_phone
        else:
            move(message, Status.CANCELED, "module", "the customer has no mobile phone any more")
    db.session.commit()
