"""The SMS module's RQ entry points, by the dotted paths stored with queued jobs.

RQ keeps a job's function as a dotted path (``plugins.sms_module.jobs.send_message``), so
jobs already waiting in Redis must find their function here whatever the packages below
become: each entry point keeps its name and signature, takes ids (never objects) and hands
over to the package that owns the work. The paths of earlier
layouts (``plugins.sms_module.event_jobs.*``, ``.inbound.forward``, ``.simulator.report``,
``.campaigns.prepare``) are kept as aliases of these.

The packages below enqueue by these paths as strings (they may not import this module,
which imports them): ``outbox.SEND_FUNCTION``, ``fanout.PREPARE_FUNCTION``,
``forwarding.FORWARD_FUNCTION``, ``limits.DIGEST_FUNCTION``, ``simulator.REPORT_FUNCTION``
and ``event_jobs``;
``tests/sms_module/test_jobs.py`` resolves each the way RQ does.
"""

from __future__ import annotations

import logging

from flask import current_app

from plugins.sms_module import campaigns
from plugins.sms_module.campaigns import fanout
from plugins.sms_module.carriers import carrier_for, simulator
from plugins.sms_module.conversations import digest, forwarding
from plugins.sms_module.notifications import event_jobs, event_outbox
from plugins.sms_module.sending import carrier_audit, outbox, send_job, status_fetch

log = logging.getLogger(__name__)

# The host's events handled in a worker (``notifications.event_jobs``).
EVENT_JOB_PATHS = frozenset(f"{__name__}.{name}" for name in event_jobs.EVENTS)


def send_message(message_id: int) -> str:
    """Send message ``message_id`` if it still has to go (``sending.send_job``)."""
    return send_job.send_message(message_id)


def sweep() -> None:
    """Periodic task: give a job back to every message, reply forward, campaign fan-out and
    host event that lost its own (Redis emptied, a process killed between commit and
    enqueue)."""
    count = outbox.sweep()
    if count:
        log.info("sweeper re-enqueued %d message(s)", count)
    grace = current_app.config["SMS_SWEEP_GRACE_SECONDS"]
    # Each reply's forward gets its job here, within a second of its commit (issue 14).
    forwards = forwarding.sweep_forwards(0)
    if forwards:
        log.info("sweeper queued the forward of %d repl(ies)", forwards)
    campaigns.sweep_unprepared(grace)
    campaigns.keep_draining()  # a send job for campaigns' messages, which have none each
    events = event_outbox.sweep_events()
    if events:
        log.info("sweeper queued %d host event(s) that had no job", events)


def fetch_statuses() -> None:
    """Periodic task: ask the carrier for the status of Sent messages whose delivery report
    did not come (``sending.status_fetch``; issue 15)."""
    config = current_app.config
    asked = status_fetch.fetch_due(carrier_for(config), config)
    if asked:
        log.info("asked the carrier for the status of %d message(s)", asked)


def audit_carrier() -> None:
    """Periodic task: once a UTC day, compare the day before's messages with the carrier's
    (``sending.carrier_audit``; issue 15)."""
    config = current_app.config
    carrier_audit.run_due(carrier_for(config), config)


def prepare_campaign(campaign_id: int) -> str:
    """Fan campaign ``campaign_id`` out to its audience (``campaigns.fanout``)."""
    return fanout.prepare(campaign_id)


def appointment_changed(
    appointment_id: int, changed: list[str], created: bool, event_id: str | None = None
) -> str:
    """Send what the appointment's change calls for (PRODUCT.md §10); ``event_id`` names the
    change (jobs queued before it existed have none)."""
    return event_jobs.appointment_changed(appointment_id, changed, created, event_id)


def invoice_printed(invoice_id: int, event_id: int | None = None) -> str:
    """Thank the customer for the printed invoice (PRODUCT.md §10); ``event_id``: the
    print's host_event (jobs queued before it existed have none)."""
    return event_jobs.invoice_printed(invoice_id, event_id)


def customer_saved(
    customer_id: int, changed: list[str], created: bool, saved_at: str, event_id: int | None = None
) -> str:
    """Welcome, withdraw or re-address after the customer's save (PRODUCT.md §10);
    ``event_id``: the save's host_event (jobs queued before it existed have none)."""
    return event_jobs.customer_saved(customer_id, changed, created, saved_at, event_id)


def forward_reply(message_id: int) -> str:
    """Forward customer reply ``message_id`` as the shop's settings say (PRODUCT.md §9)."""
    return forwarding.forward(message_id)


def forward_digest(company_id: int | None, phone: str) -> str:
    """Forward in one digest the replies of ``phone`` held over the hour's forward limit
    (``conversations.digest``, issue 13)."""
    return digest.send(company_id, phone)


def simulator_report(sid: str) -> str:
    """Post the simulator's delivery report for message ``sid`` (simulator only)."""
    return simulator.report(sid)
