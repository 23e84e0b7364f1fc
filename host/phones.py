"""Phone numbers: validated and normalised to E.164 with ``phonenumbers``."""

from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    """The text is not a valid mobile or fixed phone number."""


def normalize_phone(text: str, region: str | None = "CA") -> str:
    """Return ``text`` as an E.164 number, reading national numbers in ``region``."""
    try:
        number = phonenumbers.parse(text, region or "CA")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{text!r} is not a phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{text!r} is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """Return ``e164`` in the national format people read, or an empty string."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
