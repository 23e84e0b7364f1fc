"""What the REST API reads from a request before anything is looked up or stored.

A request is refused with the API's error shape, never a 500, when its JSON is malformed or
nested deeper than ``MAX_DEPTH``, when a text holds a NUL or a lone surrogate (PostgreSQL
and the UTF-8 encoder refuse both), when an id does not fit the database's integer column,
when a date falls outside ``FIRST_YEAR``–``LAST_YEAR``, or when the Idempotency-Key does not
fit its column (issue 13, point 4 and 8). The body's size is bounded before this by Flask's
``MAX_CONTENT_LENGTH`` (413).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from flask import request
from flask_babel import gettext as _

from host.api import FIRST_YEAR, LAST_YEAR

# Containers inside containers: a send request has one level; a few more are tolerated.
MAX_DEPTH = 5
# Ids are 32-bit integer columns on PostgreSQL (SQLite takes 64 bits, Python any size).
ID_MAX = 2**31 - 1
# Dates a program may give: beyond, moving them between time zones can overflow.
# ``sms_message.dedupe_key`` is 120 characters: "api:<shop id>:" then the key.
KEY_MAX = 80
# The fields of a send request that make it "the same request" on a replayed key.
FINGERPRINTED = ("body", "customer_id", "to", "queue", "send_at")


class BadInput(Exception):
    """A request the API refuses: ``status`` (400/422), ``code`` for programs, ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def json_object() -> dict:
    """Return the request's JSON object, checked for depth and characters.

    Raises ``BadInput`` (400 ``invalid_json``: not a JSON object; 400 ``too_deep``: nested
    deeper than ``MAX_DEPTH``; 422 ``invalid_characters``: a NUL or lone surrogate in a key or
    a text). A body over ``MAX_CONTENT_LENGTH`` raises Werkzeug's 413 while it is read."""
    if not request.is_json:
        raise BadInput(400, "invalid_json", _("Send a JSON object."))
    data = request.get_data(cache=True)
    try:
        payload = json.loads(data)
    except RecursionError:
        raise BadInput(400, "too_deep", _too_deep()) from None
    except ValueError:  # not JSON, not UTF-8, or a number of thousands of digits
        raise BadInput(400, "invalid_json", _("Send a JSON object.")) from None
    if not isinstance(payload, dict):
        raise BadInput(400, "invalid_json", _("Send a JSON object."))
    _check_tree(payload)
    return payload


def _too_deep() -> str:
    return _("The JSON is nested more than %(depth)s levels deep.", depth=MAX_DEPTH)


def _check_tree(payload: dict) -> None:
    """Walk ``payload`` without recursion: its depth, and every key and text in it."""
    stack: list[tuple[object, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            check_text(value)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise BadInput(400, "too_deep", _too_deep())
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    check_text(key)
                stack.append((item, depth + 1))


def check_text(text: str) -> None:
    """Refuse a text with a NUL (PostgreSQL refuses it) or a lone surrogate (no UTF-8 for
    it): raises ``BadInput`` 422 ``invalid_characters``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        bad = True
    else:
        bad = "\x00" in text
    if bad:
        raise BadInput(
            422,
            "invalid_characters",
            _("The request holds a NUL character or a lone surrogate, which no text can carry."),
        )


def database_id(value: object, field: str) -> int:
    """Return ``value`` if it is a whole number fitting an id column (1 to ``ID_MAX``); else
    raise ``BadInput`` 400 ``invalid_<field>``. JSON ``true`` is no number."""
    if type(value) is not int or not 1 <= value <= ID_MAX:
        raise BadInput(
            400,
            f"invalid_{field}",
            _("%(field)s is a whole number from 1 to %(max)s.", field=field, max=ID_MAX),
        )
    return value


def date_time(value: object, field: str) -> datetime:
    """Read an ISO 8601 date and time (without an offset: UTC) as an aware UTC ``datetime``
    whose UTC year is between ``FIRST_YEAR`` and ``LAST_YEAR`` (checked after conversion:
    "2100-12-31T23:59:59-12:00" is 2101 in UTC); else raise ``BadInput`` 400
    ``invalid_<field>``."""
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
        if when is not None:
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (ValueError, OverflowError):  # not ISO 8601; year 1 or 9999 moved past the edge
        when = None
    if when is None or not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise BadInput(
            400,
            f"invalid_{field}",
            _(
                "%(field)s is an ISO 8601 date and time between the years %(first)s and %(last)s.",
                field=field,
                first=FIRST_YEAR,
                last=LAST_YEAR,
            ),
        )
    return when


def idempotency_key() -> str | None:
    """Return the request's Idempotency-Key header, or ``None`` without one.

    Raises ``BadInput`` 422 ``idempotency_key_too_long`` past ``KEY_MAX`` characters (never
    truncated: two keys sharing their start are two requests) and 422
    ``invalid_idempotency_key`` for characters other than printable ASCII."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > KEY_MAX:
        raise BadInput(
            422,
            "idempotency_key_too_long",
            _(
                "The Idempotency-Key has %(count)s characters; the limit is %(limit)s.",
                count=len(key),
                limit=KEY_MAX,
            ),
        )
    if not all(" " <= c <= "~" for c in key):
        raise BadInput(
            422,
            "invalid_idempotency_key",
            _("The Idempotency-Key takes letters, digits and ASCII punctuation only."),
        )
    return key


def fingerprint(fields: dict) -> str:
    """Return the SHA-256 (64 hex digits) of a send request's ``FINGERPRINTED`` fields, the
    same for the same request whatever the order or spacing of its JSON. A ``datetime``
    (``send_at`` as ``date_time`` read it) counts as its UTC instant: "…Z" and "…+00:00", or
    10:00-04:00 and 14:00Z, are the same request (draft-ietf-httpapi-idempotency-key-header:
    the same key with the same request is a replay)."""
    chosen = {name: fields.get(name) for name in FINGERPRINTED}
    for name, value in chosen.items():
        if isinstance(value, datetime):
            instant = value.replace(tzinfo=UTC) if value.tzinfo is None else value
            chosen[name] = instant.astimezone(UTC).isoformat()
    text = json.dumps(chosen, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
