"""The host's events, handled in workers: the hooks only put a job on the queue, so a
shop's save costs one Redis round trip, whatever the SMS module then has to do.

Jobs take ids and the names of what changed, never objects; they read the committed
rows. Running one twice sends nothing twice: every message carries its event's key.
"""

from __future__ import annotations

from datetime import datetime

from rq import Retry

from host.api import Appointment, Customer, Invoice, db, get_queue
from plugins.sms_module.models import Queue
from plugins.sms_module.notifications import events

QUEUE = Queue.TRANSACTIONAL.value
# The RQ entry points (``plugins.sms_module.jobs``) of the events handled here.
EVENTS = ("appointment_changed", "invoice_printed", "customer_saved")


def enqueue(name: str, *args) -> None:
    """Put the handling of event ``name`` on the transactional queue, by its stable entry
    point ``plugins.sms_module.jobs.<name>``."""
    if name not in EVENTS:
        raise ValueError(f"unknown event {name!r}")
    get_queue(QUEUE).enqueue(
        f"plugins.sms_module.jobs.{name}",
        *args,
        job_timeout=60,
        retry=Retry(max=3, interval=[5, 30, 120]),
        result_ttl=300,
    )


def appointment_changed(
    appointment_id: int, changed: list[str], created: bool, event_id: str | None = None
) -> str:
    """Send what the appointment's change calls for."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        return "appointment gone"
    events.appointment_changed(appointment, dict.fromkeys(changed), created, event_id)
    return "done"


def invoice_printed(invoice_id: int) -> str:
    """Thank the customer for the printed invoice."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        return "invoice gone"
    events.invoice_printed(invoice)
    return "done"


def customer_saved(customer_id: int, changed: list[str], created: bool, saved_at: str) -> str:
    """Welcome, withdraw or re-address after the customer's save (committed at ``saved_at``)."""
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        return "customer gone"
    events.customer_saved(
        customer, dict.fromkeys(changed), created, datetime.fromisoformat(saved_at)
    )
    return "done"
