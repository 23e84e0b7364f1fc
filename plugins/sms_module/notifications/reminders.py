"""Appointment reminders (PRODUCT.md §10): one per start time, the shop's lead before it
(``reminder_hours_before``, 24 by default), never in the quiet hours, withdrawn when the
appointment moves or is cancelled."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from host.api import Appointment, db, shop_zone, utcnow
from plugins.sms_module.compliance import quiet_hours
from plugins.sms_module.models import Kind, ShopSmsSettings, SmsMessage, Source, Status
from plugins.sms_module.notifications.event_texts import send_event
from plugins.sms_module.sending import withdrawal
from plugins.sms_module.texts import templates


def reminder_time(appointment: Appointment, now: datetime | None = None) -> datetime | None:
    """Return when to remind: the shop's lead before the start, moved out of the night,
    never in the past; ``None`` when no sensible time is left."""
    now = now or utcnow()
    zone = shop_zone(appointment.company)
    lead = timedelta(hours=reminder_hours(appointment.company_id))
    # At night: the evening before, one hour before the quiet hours begin.
    at = quiet_hours.evening_before(appointment.starts_at - lead, zone)
    if at <= now:
        # Too late for the planned time: now, if it is daytime and the visit is still ahead.
        if quiet_hours.is_quiet(now, zone) or appointment.starts_at - now < timedelta(hours=1):
            return None
        return now
    return at


def reminder_hours(company_id: int) -> int:
    """Return how many hours before an appointment the shop reminds (default 24)."""
    row = db.session.get(ShopSmsSettings, company_id)
    if row is not None:
        return row.reminder_hours_before
    return current_app.config["SMS_REMINDER_HOURS_BEFORE"]


def schedule_reminder(appointment: Appointment, event_id: str | None = None) -> SmsMessage | None:
    """Schedule the appointment's reminder: one per start time, unless one for this start
    is already waiting or has left (``event_id``: the change that asks for it)."""
    at = reminder_time(appointment)
    if at is None or _has_reminder(appointment):
        return None
    key = reminder_key(appointment) + (f":{event_id}" if event_id else "")
    return send_event(
        appointment.company,
        templates.APPOINTMENT_REMINDER,
        appointment.customer,
        key,
        send_at=at,
        appointment=appointment,
    )


def _has_reminder(appointment: Appointment) -> bool:
    """Tell whether a reminder for the appointment's current start is waiting or has left."""
    return (
        db.session.scalar(
            select(SmsMessage.id)
            .where(
                SmsMessage.appointment_id == appointment.id,
                SmsMessage.kind == Kind.APPOINTMENT_REMINDER,
                SmsMessage.appointment_starts_at == appointment.starts_at,
                SmsMessage.status.not_in((Status.CANCELED, Status.FAILED)),
            )
            .limit(1)
        )
        is not None
    )


def reminder_key(appointment: Appointment) -> str:
    """Return the dedupe key of the appointment's reminder for its current start time (a
    change's reminder adds the change's id to it)."""
    return f"appointment:{appointment.id}:reminder:{appointment.starts_at.isoformat()}"


def cancel_reminders(appointment_id: int, reason: str, keep: str | None = None) -> int:
    """Cancel the appointment's reminders that have not left yet (but those whose key starts
    with ``keep``: the reminders of the current start time); ``reason``: a code
    (``codes.Step``, ``codes.Withdrawal``) for their history."""
    conditions = [SmsMessage.dedupe_key.like(f"appointment:{appointment_id}:reminder:%")]
    if keep:
        conditions.append(~SmsMessage.dedupe_key.startswith(keep, autoescape=True))
    return withdrawal.withdraw_where(*conditions, source=Source.MODULE, reason=reason)
