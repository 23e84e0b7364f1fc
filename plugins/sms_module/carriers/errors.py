"""Twilio's error codes the module reads, in one table (twilio.com/docs/api/errors/<code>).

The simulator raises and reports the same codes, the send job and the delivery reports act
on them (21610 opts the phone out: PRODUCT.md §5), and a failure the carrier gave no reason
for is explained from here.
"""

from __future__ import annotations

import re

UNSUBSCRIBED = 21610  # "Attempt to send to unsubscribed recipient": the phone texted STOP
INVALID_TO = 21211  # "Invalid 'To' Phone Number"
UNREACHABLE = 30003  # "Unreachable destination handset"
UNKNOWN_ERROR = 30008  # "Unknown error" from the downstream carrier

TWILIO_ERRORS: dict[int, str] = {
    UNSUBSCRIBED: "The recipient unsubscribed (replied STOP to this number).",
    INVALID_TO: "The 'To' number is not a valid phone number.",
    UNREACHABLE: "The handset is unreachable (off, or out of coverage).",
    30005: "The number is unknown or no longer exists.",
    30006: "A landline, or a carrier that cannot receive SMS.",
    30007: "The carrier filtered the message.",
    UNKNOWN_ERROR: "Unknown error from the carrier.",
}


def carrier_code(code: int | str | None) -> int | None:
    """Return a carrier's error code as a number, or None when it is absent or not one."""
    text = str(code).strip() if code is not None else ""
    # ASCII digits only ("²".isdigit() is true, and int() refuses it), short of Python's
    # 4300-digit limit on int(): Twilio's codes have five digits.
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None


def opts_out(code: int | str | None) -> bool:
    """Tell whether a carrier's error code means the phone unsubscribed (Twilio 21610),
    which opts it out of every shop's messages (PRODUCT.md §5)."""
    return carrier_code(code) == UNSUBSCRIBED


def describe(code: int | str | None, carrier_status: str | None = None) -> str:
    """Return, in English like the rest of the history, why the carrier failed a message:
    the table's words for a known code, else what the carrier said it became."""
    known = TWILIO_ERRORS.get(carrier_code(code) or 0)
    if known:
        return known
    if code:
        return f"Carrier error {str(code)[:60]}."
    return f"The carrier reported the message {carrier_status or 'failed'}, without a code."
