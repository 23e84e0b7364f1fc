"""The words stored on a message: what kind it is, which way it goes, who moved its status,
and why it failed (PRODUCT.md §6: status and failure reason are separate fields).

Each is a ``StrEnum`` so rows keep their plain text values and compare equal to them.
Twilio's error codes are read in one place, ``carriers.errors``.
"""

from __future__ import annotations

import enum
import re


class Direction(enum.StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class Kind(enum.StrEnum):
    """What a message is for; the host events' kinds are also their template names."""

    MANUAL = "manual"  # staff, from the customer's SMS tab
    API = "api"  # an outside program, through the REST API
    DISCLAIMER = "disclaimer"  # the first SMS to a phone from a shop (§5)
    CAMPAIGN = "campaign"  # a shop's marketing campaign (§7)
    INBOUND = "inbound"  # a customer's SMS to us (§9)
    KEYWORD_ANSWER = (
        "keyword_answer"  # the answer to STOP, START or HELP, from the number written to
    )
    REPLY = "reply"  # staff's answer from the reply page
    REPLY_FORWARD = "reply_forward"  # a reply forwarded to the shop's cell number
    APPOINTMENT_BOOKED = "appointment_booked"
    APPOINTMENT_MOVED = "appointment_moved"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_REMINDER = "appointment_reminder"
    VEHICLE_READY = "vehicle_ready"
    INVOICE_PRINTED = "invoice_printed"
    WELCOME = "welcome"


class Source(enum.StrEnum):
    """Who made a step of a message's history (PRODUCT.md §6), or an opt-out event (§5)."""

    MODULE = "module"
    PROVIDER_CALLBACK = "provider_callback"
    RECONCILIATION = "reconciliation"
    STAFF = "staff"
    API = "api"
    CAMPAIGN = "campaign"
    EVENT = "event"  # a host event (PRODUCT.md §10)
    SMS_KEYWORD = "sms_keyword"  # an opt-out or opt-in texted by the phone
    PROVIDER_ERROR = "provider_error"  # an opt-out the carrier's error code implied


class FailureCode(enum.StrEnum):
    """Why the module refused or failed a message; a carrier's failure keeps its own code."""

    MODULE_OFF = "module_off"
    V2V_MISSING = "v2v_missing"  # option 124 on, but no V2V organization number (§3)
    LOCATION_MISSING = "location_missing"
    NO_PHONE = "no_phone"
    INVALID_PHONE = "invalid_phone"
    EMPTY_BODY = "empty_body"
    INVALID_CHARACTERS = "invalid_characters"  # a NUL, which no SMS carries nor PostgreSQL stores
    TOO_LONG = "too_long"
    INVALID_QUEUE = "invalid_queue"
    PROMOTIONAL_NEEDS_CAMPAIGN = "promotional_needs_campaign"
    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"
    CARRIER_ERROR = "carrier_error"  # the carrier refused it and gave no code
    # The phone's first-SMS disclaimer failed at the carrier, so the message waiting for it
    # fails too, never sent (§5): "disclaimer_failed: <the disclaimer's failure reason>".
    DISCLAIMER_FAILED = "disclaimer_failed"


# The codes of a refusal: a rule of the module (PRODUCT.md §3, §4, §5, and the request's own
# checks) stopped the message before any carrier had it. Its Failed row is the audit trail,
# shown and counted as refused, apart from the carrier's outcomes (``statuses.is_refusal``).
# Every code the module writes is one, but for CARRIER_ERROR; the carrier's codes are its own.
# (DISCLAIMER_FAILED is one: the §5 rule stopped the message, which no carrier had.)
REFUSALS = frozenset(FailureCode) - {FailureCode.CARRIER_ERROR}


class Guard(enum.StrEnum):
    """The condition that keeps a scheduled message true, checked again just before the
    carrier call (``compliance.guards``); a message whose guard fails is Canceled, never
    sent. Every guard names the message's appointment (``SmsMessage.appointment_id``)."""

    # Booked, moved, reminder: the appointment is still booked or confirmed, at the very
    # time the text states (``SmsMessage.appointment_starts_at``), and still ahead.
    UPCOMING = "upcoming"
    # "Your vehicle is ready": the appointment is still Ready (not completed, picked up).
    READY = "ready"
    # "Your appointment is cancelled": it still is.
    CANCELLED = "cancelled"


class Withdrawal(enum.StrEnum):
    """Why a message that had not left was Canceled: the history line's detail, a code shown
    to people in their language (``texts.preview.withdrawal_label``)."""

    EXPIRED = "expired"  # its useful time passed before it could leave
    CAMPAIGN_CANCELED = "campaign_canceled"
    APPOINTMENT_GONE = "appointment_gone"
    NOT_UPCOMING = "appointment_not_upcoming"  # in progress, ready, completed, cancelled
    MOVED = "appointment_moved"  # the text states another time
    STARTED = "appointment_started"  # the visit's start has passed
    NOT_READY = "vehicle_not_ready"  # no longer waiting to be picked up
    NOT_CANCELLED = "appointment_not_cancelled"
    BY_STAFF = "canceled_by_staff"  # "canceled_by_staff: <who>"


class Step(enum.StrEnum):
    """What a status history line says happened, stored as its ``detail`` (``"code"`` or
    ``"code: argument"``, ``coded``) and shown to people in their language at display time
    (``texts.reasons.history_text``; issue 12, point 1). A failure's detail is its failure
    code, a withdrawal's a ``Withdrawal``."""

    DUE = "due"  # Scheduled: "due: <ISO moment, UTC>"
    DISCLAIMER = "disclaimer"  # the first SMS from a shop to a phone (§5)
    KEYWORD_ANSWER = "keyword_answer"  # "keyword_answer: STOP"
    RECEIVED_ON = "received_on"  # an inbound SMS: "received_on: <our number>"
    SENDER = "sender"  # Sending: "sender: <our number>"
    ATTEMPT = "attempt"  # another delivery attempt: "attempt: <n>"
    RETRY = "retry"  # a transient carrier error: "retry: <seconds> <carrier code or ->"
    QUIET_HOURS = "quiet_hours"  # a campaign held through the night (§7)
    CARRIER_ACCEPTED = "carrier_accepted"  # Sent: "carrier_accepted: <carrier SID>"
    CARRIER_STATUS = "carrier_status"  # a status report: "carrier_status: <carrier's word>"
    REFUSED = "refused"  # refused at acceptance: "refused: <failure code>"
    REFUSED_BEFORE_SENDING = "refused_before_sending"  # "refused_before_sending: <code>"
    TEXT_EDITED = "text_edited"  # a campaign's text edited before it left
    CONSENT_WITHDRAWN = "consent_withdrawn"  # Canceled: the customer withdrew consent (§4)
    PHONE_REMOVED = "phone_removed"  # Canceled: the customer has no mobile phone any more
    APPOINTMENT_CANCELLED = "appointment_cancelled"  # Canceled: a reminder's visit cancelled
    # Reconciliation could not tell this message's carrier record from another message's: it
    # is neither taken nor sent again, and waits (issue 15, point 2).
    RECONCILE_WAIT = "reconcile_wait"
    # Still ambiguous after ``SMS_RECONCILE_MAX_WAIT_MINUTES``: shown to the operator.
    RECONCILE_FLAGGED = "reconcile_flagged"


class Reason(enum.StrEnum):
    """The codes of a ``failure_reason`` beyond the failure codes (which stand for
    themselves): ``"<failure code>"``, or one of these with its argument (``coded``)."""

    # The argument of a rule's refusal just before the carrier call (``rules.may_go_now``):
    # "opted_out: before_sending".
    BEFORE_SENDING = "before_sending"
    # A carrier's code too long for ``failure_code`` (kept as carrier_error): "carrier_code: X".
    CARRIER_CODE = "carrier_code"


def coded(code: str, argument: object | None = None) -> str:
    """Return the stored form of a reason or history detail: ``"code"`` or
    ``"code: argument"`` (read back with ``uncoded``)."""
    code = str(code)
    return code if argument is None or argument == "" else f"{code}: {argument}"


def uncoded(text: str | None) -> tuple[str, str | None]:
    """Split a stored reason or detail into its code and argument (``None`` when it has none):
    ``"retry: 30 30008"`` → ``("retry", "30 30008")``."""
    code, sep, argument = (text or "").partition(": ")
    return code, (argument if sep else None)


def carrier_code(code: int | str | None) -> int | None:
    """Return a carrier's error code as a number, or None when it is absent or not one."""
    text = str(code).strip() if code is not None else ""
    # ASCII digits only ("²".isdigit() is true, and int() refuses it), short of Python's
    # 4300-digit limit on int(): Twilio's codes have five digits.
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None
