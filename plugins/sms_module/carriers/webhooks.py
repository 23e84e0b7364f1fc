"""Twilio's webhook protocol: its status words, and the X-Twilio-Signature on each request.

Shared by the webhook views (which check signatures and map statuses), the Twilio carrier
and the simulator (which signs its reports the way Twilio does). Twilio's own
``RequestValidator`` computes the signature (twilio.com/docs/usage/webhooks/webhooks-security).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twilio.request_validator import RequestValidator

from plugins.sms_module.models.statuses import Status

# Every Twilio message status (the spec's ``message_enum_status``) to ours. Our Queued and
# Sending are steps inside our own pipeline; once Twilio holds the message, whatever it says
# short of a final answer means "the carrier has it", which is our Sent.
STATUS_MAP: dict[str, Status] = {
    "accepted": Status.SENT,  # a Messaging Service took it and is choosing a sender
    "scheduled": Status.SENT,  # Twilio-side scheduling (we schedule ourselves, but it has it)
    "queued": Status.SENT,
    "sending": Status.SENT,
    "sent": Status.SENT,  # the downstream carrier accepted it
    "delivered": Status.DELIVERED,
    "read": Status.DELIVERED,  # WhatsApp/RCS read receipt: delivered, and then some
    # Only some segments arrived: the customer did not get the whole text, so staff
    # should treat it as not delivered.
    "partially_delivered": Status.UNDELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
    # Our Canceled means withdrawn before reaching the carrier; a Twilio "canceled" comes
    # after Twilio had it (cancelled in its console or API) and nothing went out. Failed
    # says so, and it is the move Sending/Sent allow.
    "canceled": Status.FAILED,
    "receiving": Status.RECEIVING,
    "received": Status.RECEIVED,
}


def local_status(twilio_status: str | None) -> Status | None:
    """Return our status for a Twilio status word, or ``None`` for one we don't know."""
    if not twilio_status:
        return None
    return STATUS_MAP.get(str(twilio_status).strip().lower())


def signature_valid(
    auth_token: str | None, url: str, params: Mapping[str, Any] | None, signature: str | None
) -> bool:
    """Tell whether ``signature`` (X-Twilio-Signature) signs ``url`` and the form ``params``."""
    if not auth_token or not signature:
        return False
    return RequestValidator(auth_token).validate(url, params or {}, signature)


def signature_for(auth_token: str, url: str, params: Mapping[str, Any]) -> str:
    """Sign ``url`` and form ``params`` as Twilio does (the simulator's reports use it)."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))
