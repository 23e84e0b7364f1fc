"""Message statuses and the one table of transitions between them (PRODUCT.md §6).

Outbound: Accepted → Scheduled → Queued → Sending → Sent → Delivered / Undelivered /
Failed; Canceled ends a message withdrawn before it reached the carrier. Inbound:
Receiving → Received. A status never moves backwards: provider callbacks arrive out
of order, so a late "sent" after "delivered" is ignored, and a callback may skip
statuses forward (a "delivered" that overtakes our own "sent").

A refusal is no status of its own: a message a rule refused before any carrier had it stays
Failed with the rule's code, and is shown and counted as *refused* (``is_refusal``, and
``refusal_sql`` for queries), apart from the carrier's outcomes.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from plugins.sms_module.models.codes import REFUSALS


class Status(enum.StrEnum):
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELED = "canceled"
    RECEIVING = "receiving"
    RECEIVED = "received"


S = Status

# The only moves a message may make. Each target is later in the life of a message
# than its source; terminal statuses have no way out.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.ACCEPTED: frozenset({S.SCHEDULED, S.CANCELED, S.FAILED}),
    S.SCHEDULED: frozenset({S.QUEUED, S.SENDING, S.CANCELED, S.FAILED}),
    S.QUEUED: frozenset({S.SENDING, S.CANCELED, S.FAILED}),
    # From Sending the carrier's answer (or a callback overtaking it) decides.
    S.SENDING: frozenset({S.SENT, S.DELIVERED, S.UNDELIVERED, S.FAILED}),
    S.SENT: frozenset({S.DELIVERED, S.UNDELIVERED, S.FAILED}),
    S.DELIVERED: frozenset(),
    S.UNDELIVERED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
    S.RECEIVING: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset(),
}

# Position of each status in a message's life, for ordering and for the no-going-back proof.
RANK: dict[Status, int] = {
    S.ACCEPTED: 0,
    S.SCHEDULED: 1,
    S.QUEUED: 2,
    S.SENDING: 3,
    S.SENT: 4,
    S.DELIVERED: 5,
    S.UNDELIVERED: 5,
    S.FAILED: 5,
    S.CANCELED: 5,
    S.RECEIVING: 0,
    S.RECEIVED: 1,
}

TERMINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
# Statuses in which a message may still be withdrawn (it has not reached a worker).
CANCELABLE = frozenset({S.ACCEPTED, S.SCHEDULED, S.QUEUED})
# A Sent message with no report after this many hours is shown as "no delivery report".
NO_REPORT_AFTER_HOURS = 72


def can_move(current: Status, target: Status) -> bool:
    """Tell whether a message in ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]


def no_report_cutoff(now: datetime) -> datetime:
    """Return the moment before which a Sent message has gone too long without a delivery
    report (PRODUCT.md §6: older than 72 hours)."""
    return now - timedelta(hours=NO_REPORT_AFTER_HOURS)


def lacks_report(status: Status | str, updated_at: datetime | None, now: datetime) -> bool:
    """Tell whether a message is Sent with no delivery report for too long (§6); it still
    moves on if one comes."""
    return status == Status.SENT and updated_at is not None and updated_at < no_report_cutoff(now)


# How a refusal is shown, counted and filtered in reports (a word, not a status: §6 has none).
REFUSED = "refused"
_REFUSAL_CODES = sorted(code.value for code in REFUSALS)


def is_refusal(status: Status | str, failure_code: str | None) -> bool:
    """Tell whether a message is a refusal: Failed with the code of a rule that stopped it
    before any carrier had it (``codes.REFUSALS``: no consent, opted out, module off…), not a
    carrier's outcome. The one test of it; ``refusal_sql`` is the same in SQL."""
    return status == Status.FAILED and failure_code in REFUSALS


def refusal_sql(status, failure_code):
    """Return the SQL condition ``is_refusal`` over the columns ``status`` and
    ``failure_code``: true or false, never NULL (so ``~refusal_sql(...)`` keeps a Failed
    message without code)."""
    return (status == Status.FAILED) & failure_code.is_not(None) & failure_code.in_(_REFUSAL_CODES)
