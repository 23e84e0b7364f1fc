"""Why a message failed, was refused or moved, and the consent ledger's words, in the
reader's language (issue 12, points 1 and 2).

Workers, rules and the carrier path store codes (``models.codes``: a failure code, a
``Reason``, a ``Step`` or a ``Withdrawal``, with an argument after a colon); people read
sentences made from them at display time, in their own language. A row written before the
codes keeps its English sentence, shown as it is.
"""

from __future__ import annotations

from datetime import datetime

from flask import has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from host.api import current_shop, format_phone, localtime
from plugins.sms_module.models import (
    FailureCode,
    Status,
    Withdrawal,
)
from plugins.sms_module.models.codes import Reason, Step, carrier_code, uncoded
from plugins.sms_module.texts.preview import LABELS, withdrawal_label

FAILURE_CODES = frozenset(code.value for code in FailureCode)
STEPS = frozenset(step.value for step in Step)
WITHDRAWALS = frozenset(code.value for code in Withdrawal)
STATUSES = frozenset(status.value for status in Status)

# Why the module refused or failed a message, for each of its failure codes (PRODUCT.md §3,
# §4, §5 and the request's own checks).
FAILURES = {
    FailureCode.MODULE_OFF: _l("The new SMS module is off for this shop (option 124)."),
    FailureCode.V2V_MISSING: _l("The shop's V2V organization number is missing."),
    FailureCode.LOCATION_MISSING: _l("The shop's country and province are not filled in."),
    FailureCode.NO_PHONE: _l("The customer has no mobile phone."),
    FailureCode.INVALID_PHONE: _l("The recipient's number is not a valid phone number."),
    FailureCode.EMPTY_BODY: _l("The message is empty."),
    FailureCode.INVALID_CHARACTERS: _l("The message contains a character no SMS can carry."),
    FailureCode.TOO_LONG: _l("The message is too long."),
    FailureCode.INVALID_QUEUE: _l("The queue is transactional or promotional."),
    FailureCode.PROMOTIONAL_NEEDS_CAMPAIGN: _l(
        "The promotional queue only sends the CRM's marketing campaigns."
    ),
    FailureCode.NO_CONSENT: _l("No express consent is on record for this recipient."),
    FailureCode.OPTED_OUT: _l("This phone replied STOP: it receives no SMS until it texts START."),
    FailureCode.CARRIER_ERROR: _l("The carrier refused the message without giving an error code."),
    FailureCode.DISCLAIMER_FAILED: _l(
        "The first-SMS disclaimer to this phone failed, so this message was not sent."
    ),
}

# The same rules, when they refused a message just before the carrier call
# (``rules.may_go_now``: "<code>: before_sending").
BEFORE_SENDING = {
    FailureCode.MODULE_OFF: _l("The new SMS module was switched off before the message left."),
    FailureCode.V2V_MISSING: _l(
        "The shop's V2V organization number was emptied before the message left: fill it in "
        "Company management."
    ),
    FailureCode.OPTED_OUT: _l("The phone opted out (STOP) before the message left."),
    FailureCode.NO_CONSENT: _l("The customer withdrew consent before the message left."),
}

# Twilio's error codes, in words a shop reads (https://www.twilio.com/docs/api/errors/<code>).
CARRIER_ERRORS = {
    20429: _l("The carrier received too many requests; the message was not sent."),
    21211: _l("The number is not a valid phone number."),
    21408: _l("The carrier may not send SMS to this number's country or region."),
    21602: _l("The message had no text."),
    21606: _l("The sender number cannot send SMS to this destination."),
    21610: _l("The recipient unsubscribed (replied STOP to this number)."),
    21611: _l("The sender number has too many messages waiting at the carrier."),
    21612: _l("The carrier cannot reach this number by SMS from this sender number."),
    21614: _l("The number is not a mobile number."),
    21617: _l("The message is longer than the carrier accepts (1,600 characters)."),
    30001: _l("The carrier's queue was full: the message was not sent."),
    30002: _l("The carrier account is suspended."),
    30003: _l("The phone is unreachable (off, or out of coverage)."),
    30004: _l("The recipient blocked the message (or the number blocks SMS)."),
    30005: _l("The number is unknown or no longer exists."),
    30006: _l("A landline, or a carrier that cannot receive SMS."),
    30007: _l("The carrier filtered the message (suspected spam)."),
    30008: _l("Unknown error from the recipient's carrier."),
    30009: _l("A part of the message was lost on the way."),
    30010: _l("The message's price was over the account's limit."),
    30032: _l("The toll-free sender number is not verified."),
    30034: _l("The sender number is not registered for sending SMS (A2P 10DLC)."),
}

# The history's words for a carrier's status report ("carrier_status: <word>"), beyond the
# statuses of our own (``texts.preview.LABELS``, whose values are Twilio's words too).
CARRIER_STATUSES = {
    "read": _l("Read"),
    "partially_delivered": _l("Partially delivered"),
}

# The sentences older versions wrote in the history, each read again as the code that took
# its place, so old rows read in the reader's language too.
LEGACY_DETAILS = {
    "first SMS to this phone": Step.DISCLAIMER,
    "quiet hours: goes in the morning": Step.QUIET_HOURS,
    "consent withdrawn": Step.CONSENT_WITHDRAWN,
    "the customer has no mobile phone any more": Step.PHONE_REMOVED,
    "appointment cancelled": Step.APPOINTMENT_CANCELLED,
    "appointment moved": Withdrawal.MOVED,
    "the shop canceled the campaign": Withdrawal.CAMPAIGN_CANCELED,
    "text edited before it left": Step.TEXT_EDITED,
}


def failure_text(code: str | None, stored_reason: str | None = None) -> str:
    """Return, in the reader's language, why a message failed or was refused: from its
    ``failure_code`` (a rule's code, or the carrier's error number), with the stored
    ``failure_reason`` of an older row as the last resort; "" when there is no failure.

    ``stored_reason`` is a failure code, ``"<failure code>: before_sending"``,
    ``"carrier_error: <carrier status>"`` or ``"carrier_code: <code>"`` (``models.codes``);
    an unknown carrier code reads "Carrier error <code>" (issue 12, point 1)."""
    reason_code, argument = uncoded(stored_reason)
    if reason_code == Reason.CARRIER_CODE and argument:
        return _("Carrier error %(code)s", code=argument)
    if reason_code in FAILURE_CODES and argument is not None:
        return _coded_failure(FailureCode(reason_code), argument)
    if stored_reason and stored_reason != code and not _known(code):
        return stored_reason  # an older row's sentence: the best there is
    if not code:
        return stored_reason or ""
    if code in FAILURE_CODES:
        return str(FAILURES[FailureCode(code)])
    known = CARRIER_ERRORS.get(carrier_code(code) or 0)
    return str(known) if known else _("Carrier error %(code)s", code=code)


def english_failure(message) -> str | None:
    """Return ``failure_text`` of ``message`` in English, for programs (the REST API's
    ``failure_reason``: PRODUCT.md §12); ``None`` for a message that did not fail."""
    if not (message.failure_code or message.failure_reason):
        return None
    with force_locale("en"):
        return failure_text(message.failure_code, message.failure_reason)


def _known(code: str | None) -> bool:
    """Tell whether ``code`` has sentences of its own (a module's code, a Twilio code we know)."""
    return bool(code) and (code in FAILURE_CODES or carrier_code(code) in CARRIER_ERRORS)


def _coded_failure(code: FailureCode, argument: str) -> str:
    if argument == Reason.BEFORE_SENDING and code in BEFORE_SENDING:
        return str(BEFORE_SENDING[code])
    if code == FailureCode.CARRIER_ERROR:
        return _(
            "The carrier reported the message as %(status)s, without an error code.",
            status=carrier_status_label(argument),
        )
    if code == FailureCode.DISCLAIMER_FAILED:
        return _(
            "The first-SMS disclaimer to this phone failed, so this message was not sent: "
            "%(reason)s",
            reason=_disclaimer_failure(argument),
        )
    return str(FAILURES[code])


def _disclaimer_failure(stored: str) -> str:
    """Return why the disclaimer failed from its stored ``failure_reason`` (a carrier's code,
    ``"carrier_error: <status>"``, ``"carrier_code: <code>"``); an older row's sentence as it
    is (PRODUCT.md §5)."""
    inner, _argument = uncoded(stored)
    if inner in FAILURE_CODES or inner == Reason.CARRIER_CODE or carrier_code(inner) is not None:
        return failure_text(inner, stored)
    return stored


def carrier_status_label(word: str | None) -> str:
    """Return the carrier's status word (Twilio's: "delivered", "undelivered"…) as people
    read it; an unknown word as it is."""
    if word in STATUSES:
        return str(LABELS[Status(word)])
    return str(CARRIER_STATUSES.get(word or "", word or ""))


def history_text(source: str | None, detail: str | None, company=None) -> str:
    """Return, in the reader's language, a status history line's ``detail`` (as stored by
    ``lifecycle``: a code, ``"code: argument"``, or an older English sentence, shown as is).

    ``company``: the shop whose time zone a moment is written in (default: the reader's
    shop; UTC, named, for the operator). ``source`` is who made the step (``source_label``).
    """
    if not detail:
        return ""
    detail = str(LEGACY_DETAILS.get(detail, detail))
    code, argument = uncoded(detail)
    if code in STEPS:
        return _step_text(Step(code), argument, company)
    if code in WITHDRAWALS:
        return withdrawal_label(detail) or detail
    if code in FAILURE_CODES or carrier_code(code) is not None:
        return failure_text(code, detail)
    if detail in STATUSES or detail in CARRIER_STATUSES:
        return carrier_status_label(detail)  # an older row's bare carrier status
    return detail


def _step_text(step: Step, argument: str | None, company) -> str:
    arg = argument or ""
    if step == Step.DUE:
        return _("Due %(when)s", when=_moment(arg, company))
    if step == Step.DISCLAIMER:
        return _("First SMS from this shop to this phone: the disclaimer goes first.")
    if step == Step.KEYWORD_ANSWER:
        return _("Answer to %(word)s", word=arg)
    if step == Step.RECEIVED_ON:
        return _("Received on %(number)s", number=format_phone(arg))
    if step == Step.SENDER:
        return _("From %(number)s", number=format_phone(arg))
    if step == Step.ATTEMPT:
        return _("Delivery attempt %(count)s", count=arg)
    if step == Step.RETRY:
        seconds, _sep, carrier = arg.partition(" ")
        why = failure_text(carrier if carrier and carrier != "-" else FailureCode.CARRIER_ERROR)
        return _("Tried again in %(seconds)s s: %(why)s", seconds=seconds, why=why)
    if step == Step.QUIET_HOURS:
        return _("Quiet hours: it goes in the morning.")
    if step == Step.CARRIER_ACCEPTED:
        return _("The carrier accepted it (%(sid)s).", sid=arg)
    if step == Step.CARRIER_STATUS:
        return _("The carrier reported: %(status)s", status=carrier_status_label(arg))
    if step == Step.REFUSED:
        return _("Refused: %(reason)s", reason=failure_text(arg))
    if step == Step.REFUSED_BEFORE_SENDING:
        if arg in BEFORE_SENDING:
            return str(BEFORE_SENDING[FailureCode(arg)])
        return _("Refused before sending: %(reason)s", reason=failure_text(arg))
    if step == Step.TEXT_EDITED:
        return _("The text was edited before it left.")
    if step == Step.CONSENT_WITHDRAWN:
        return _("The customer withdrew consent.")
    if step == Step.PHONE_REMOVED:
        return _("The customer has no mobile phone any more.")
    if step == Step.RECONCILE_WAIT:
        return _(
            "The carrier's record of it could be another message's (same phone, number and "
            "text): neither recorded as sent nor sent again; checked again in a moment."
        )
    if step == Step.RECONCILE_FLAGGED:
        return _("Still not told apart from another message: shown to the operator.")
    return _("The appointment was cancelled.")  # Step.APPOINTMENT_CANCELLED


def _moment(iso: str, company) -> str:
    """Write an ISO moment of the history in the shop's time (``host.api.localtime``)."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if company is None and has_request_context():
        company = current_shop()
    return localtime(moment, company)
