"""Twilio's error codes the module reads, in one table (twilio.com/docs/api/errors/<code>).

The simulator raises and reports the same codes, the send job and the delivery reports act
on them (21610 opts the phone out: PRODUCT.md §5). The rows store the code only; people read
it in their language (``texts.reasons.failure_text``).
"""

from __future__ import annotations

from plugins.sms_module.models.codes import carrier_code

UNSUBSCRIBED = 21610  # "Attempt to send to unsubscribed recipient": the phone texted STOP
INVALID_TO = 21211  # "Invalid 'To' Phone Number"
UNREACHABLE = 30003  # "Unreachable destination handset"
UNKNOWN_ERROR = 30008  # "Unknown error" from the downstream carrier

# Twilio's own titles, in English: for logs and the simulator's errors, never shown to people.
TWILIO_ERRORS: dict[int, str] = {
    UNSUBSCRIBED: "The recipient unsubscribed (replied STOP to this number).",
    INVALID_TO: "The 'To' number is not a valid phone number.",
    UNREACHABLE: "The handset is unreachable (off, or out of coverage).",
    30005: "The number is unknown or no longer exists.",
    30006: "A landline, or a carrier that cannot receive SMS.",
    30007: "The carrier filtered the message.",
    UNKNOWN_ERROR: "Unknown error from the carrier.",
}


def opts_out(code: int | str | None) -> bool:
    """Tell whether a carrier's error code means the phone unsubscribed (Twilio 21610),
    which opts it out of every shop's messages (PRODUCT.md §5)."""
    return carrier_code(code) == UNSUBSCRIBED
