"""Twilio's webhook protocol: its status words, and the X-Twilio-Signature on each request.

Shared by the webhook views (which check signatures and map statuses), the Twilio carrier
and the simulator (which signs its reports the way Twilio does). Twilio's own
``RequestValidator`` computes the signature (twilio.com/docs/usage/webhooks/webhooks-security).
"""

from __future__ import annotations

import re
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


# What no database keeps in a text column: NUL (PostgreSQL refuses it, SQLite keeps it) and
# lone surrogates (not UTF-8: the driver cannot encode them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Our ids are 32-bit integers (PostgreSQL's INTEGER; SQLite takes up to 64 bits).
MAX_ID = 2**31 - 1


def clean(value: str | None) -> str:
    """Return a webhook's text ``value`` as every database keeps it: NUL and lone surrogates
    become U+FFFD (the replacement character), ``None`` becomes ``""``."""
    return _UNSTORABLE.sub("\ufffd", value or "")


def fits(value: str, length: int) -> bool:
    """Tell whether ``value`` can be stored in a ``VARCHAR(length)`` column as it is, with no
    control character (a header or a log line it would reach could be split by one)."""
    return len(value) <= length and value.isprintable()


def id_param(value: str | None) -> int | None:
    """Return the message id a callback URL carries (``?message_id=``): ASCII digits, 1 to
    ``MAX_ID``; ``None`` for anything else (no id of ours is outside that range)."""
    if not value or not re.fullmatch(r"[0-9]{1,10}", value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


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
    try:
        return RequestValidator(auth_token).validate(url, params or {}, signature)
    except (ValueError, UnicodeError):  # a URL or a value no signature could cover
        return False


def signature_for(auth_token: str, url: str, params: Mapping[str, Any]) -> str:
    """Sign ``url`` and form ``params`` as Twilio does (the simulator's reports use it)."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))
