"""The host's events, handled in workers: the hooks only put a job on the queue, so a
shop's save costs one Redis round trip, whatever the SMS module then has to do.

Jobs take ids and the names of what changed, never objects; they read the committed
rows. Running one twice sends nothing twice: every message carries its event's key, and a
job whose event is already handled (``event_outbox``) does nothing. Each job records its
event as handled when its work is done; an event whose job was never queued, or was lost,
is queued again by the sweeper (``event_outbox.sweep_events``, issue 15).
"""

from __future__ import annotations

import logging
from datetime import datetime

from redis.exceptions import RedisError

from host.api import Appointment, Customer, Invoice, db
from plugins.sms_module.notifications import event_outbox, events

log = logging.getLogger(__name__)

# The RQ entry points (``plugins.sms_module.jobs``) of the events handled here.
EVENTS = event_outbox.EVENTS


def enqueue(name: str, event_id: int | None, *args) -> None:
    """Put the handling of event ``name`` (host_event id ``event_id``) on the transactional
    queue, by its stable entry point ``plugins.sms_module.jobs.<name>``, with ``args``.

    Redis away: logged (warning) and left to the sweeper, which enqueues the event once
    Redis is back; the save that fired the event is never undone by it. Raises
    ``ValueError`` for an unknown event.
    """
    try:
        event_outbox.enqueue_event(name, event_id, *args)
    except RedisError as exc:
        log.warning("%s event %s not queued (%s): the sweeper will queue it", name, event_id, exc)


def _event_number(event_id: str | int | None) -> int | None:
    """Return the host_event id of a job's ``event_id`` (jobs queued before the event log
    carried a uuid: ``None``)."""
    if isinstance(event_id, int):
        return event_id
    if isinstance(event_id, str) and event_id.isdigit():
        return int(event_id)
    return None


def _handle(event_id: str | int | None, work) -> str:
    """Run ``work()`` for the event unless it is handled already; record it handled after."""
    number = _event_number(event_id)
    if number is not None and event_outbox.handled(number):
        return "already handled"
    with event_outbox.running(number):
        outcome = work()
        if number is not None:
            event_outbox.mark_handled(number)
            event_outbox.forget_job(number)
    return outcome


def ignore(event_id: int | None) -> None:
    """Record an event the module ignores (its shop's module is off at the event) as
    handled, so the sweeper never sends it should the module be switched on later."""
    if event_id is not None:
        event_outbox.mark_handled(event_id)


def appointment_changed(
    appointment_id: int, changed: list[str], created: bool, event_id: str | None = None
) -> str:
    """Send what the appointment's change calls for; ``event_id`` is the host_event id as
    text (a uuid for jobs queued before the event log)."""

    def work() -> str:
        appointment = db.session.get(Appointment, appointment_id)
        if appointment is None:
            return "appointment gone"
        events.appointment_changed(appointment, dict.fromkeys(changed), created, event_id)
        return "done"

    return _handle(event_id, work)


def invoice_printed(invoice_id: int, event_id: int | None = None) -> str:
    """Thank the customer for the printed invoice (``event_id``: the print's host_event)."""

    def work() -> str:
        invoice = db.session.get(Invoice, invoice_id)
        if invoice is None:
            return "invoice gone"
        events.invoice_printed(invoice)
        return "done"

    return _handle(event_id, work)


def customer_saved(
    customer_id: int,
    changed: list[str],
    created: bool,
    saved_at: str,
    event_id: int | None = None,
) -> str:
    """Welcome, withdraw or re-address after the customer's save (committed at ``saved_at``;
    ``event_id``: the save's host_event)."""

    def work() -> str:
        customer = db.session.get(Customer, customer_id)
        if customer is None:
            return "customer gone"
        events.customer_saved(
            customer, dict.fromkeys(changed), created, datetime.fromisoformat(saved_at)
        )
        return "done"

    return _handle(event_id, work)
