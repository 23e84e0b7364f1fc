"""What the host's events send (PRODUCT.md §10): the hooks' jobs (``event_jobs``), what each
event sends (``events``), appointment reminders (``reminders``) and the rendering of an
event's template into a send request (``event_texts``).

The public names of the earlier ``notifications`` module are re-exported here.
"""

from plugins.sms_module.notifications.event_texts import send_event
from plugins.sms_module.notifications.events import (
    WELCOME_WITHIN,
    appointment_changed,
    customer_saved,
    invoice_printed,
    repoint_waiting,
)
from plugins.sms_module.notifications.reminders import (
    cancel_reminders,
    reminder_hours,
    reminder_key,
    reminder_time,
    schedule_reminder,
)

__all__ = [
    "WELCOME_WITHIN",
    "appointment_changed",
    "cancel_reminders",
    "customer_saved",
    "invoice_printed",
    "reminder_hours",
    "reminder_key",
    "reminder_time",
    "repoint_waiting",
    "schedule_reminder",
    "send_event",
]
