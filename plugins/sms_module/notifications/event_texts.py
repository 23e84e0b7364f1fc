"""An event's text: the shop's template for it, rendered in the customer's language and
handed to the send service with the event's idempotency key (PRODUCT.md §10)."""

from __future__ import annotations

import logging
from datetime import datetime

from host.api import Company, Customer
from plugins.sms_module.compliance import guards
from plugins.sms_module.models import SmsMessage, Source
from plugins.sms_module.sending import service
from plugins.sms_module.texts import templates

log = logging.getLogger(__name__)


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
        return service.request_send(
            company,
            customer=customer,
            body=body,
            kind=event,
            source=Source.EVENT,
            send_at=send_at,
            dedupe_key=dedupe_key,
            truth=guards.guard_for(event, objects.get("appointment")),
        )
    except service.SendRefused as refused:
        log.info("%s for customer %s not sent: %s", event, customer.id, refused.code)
        return None
