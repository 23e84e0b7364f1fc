"""How messages and counts are shown to people: status labels, segment previews."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, pgettext

from host.api import appointment_status_label, reader_locale, utcnow
from plugins.sms_module.models import SmsMessage, Withdrawal
from plugins.sms_module.models.statuses import Status, is_refusal, lacks_report
from plugins.sms_module.texts.pricing import price_text, pricing, segment_rule
from plugins.sms_module.texts.segments import (
    UCS_2,
    MessageTooLong,
    SegmentCount,
    as_json,
    count_segments,
    plain_replacements,
)

LABELS = {
    Status.ACCEPTED: _l("Accepted"),
    Status.SCHEDULED: _l("Scheduled"),
    Status.QUEUED: _l("Queued"),
    Status.SENDING: _l("Sending"),
    Status.SENT: _l("Sent"),
    Status.DELIVERED: _l("Delivered"),
    Status.UNDELIVERED: _l("Undelivered"),
    Status.FAILED: _l("Failed"),
    Status.CANCELED: _l("Canceled"),
    Status.RECEIVING: _l("Receiving"),
    Status.RECEIVED: _l("Received"),
}


def status_label(message: SmsMessage) -> str:
    """Return the status people see; a Sent message long without report says so (§6), and
    a message a rule refused before the carrier had it says "Refused", not "Failed"
    (``statuses.is_refusal``)."""
    if lacks_report(message.status, message.updated_at, utcnow()):
        return _("Sent — no delivery report")
    if is_refusal(message.status, message.failure_code):
        return refused_label()
    return str(LABELS[message.status])


# Why a message that had not left was Canceled (``models.Withdrawal``), for people.
WITHDRAWALS = {
    Withdrawal.EXPIRED: _l("Dropped: its useful time passed before it could leave."),
    Withdrawal.CAMPAIGN_CANCELED: _l("The campaign was canceled."),
    Withdrawal.APPOINTMENT_GONE: _l("The appointment no longer exists."),
    Withdrawal.NOT_UPCOMING: _l("The appointment is no longer upcoming (%(status)s)."),
    Withdrawal.MOVED: _l("The appointment moved: this text named another time."),
    Withdrawal.STARTED: _l("The appointment's start had passed."),
    Withdrawal.NOT_READY: _l("The vehicle is no longer waiting to be picked up (%(status)s)."),
    Withdrawal.NOT_CANCELLED: _l("The appointment is no longer cancelled (%(status)s)."),
    Withdrawal.BY_STAFF: _l("Canceled by %(who)s."),
}


def withdrawal_label(detail: str | None) -> str | None:
    """Return, in the reader's language, why a message was Canceled from its history line's
    ``detail`` (``"appointment_not_upcoming: completed"``); ``None`` for another detail."""
    code, _sep, argument = (detail or "").partition(": ")
    try:
        label = WITHDRAWALS[Withdrawal(code)]
    except ValueError:
        return None
    return str(label) % {"status": appointment_status_label(argument), "who": argument}


def refused_label() -> str:
    """Return the word shown for a refused message (a message's status, singular)."""
    return pgettext("message status", "Refused")


def preview(body: str) -> tuple[dict, int]:
    """Return the segment preview of ``body`` (the API's JSON shape) and its HTTP status.

    Besides the machine values of ``segments.as_json`` (kept as they are: the API and the
    CLI give them), the preview says it for people in the reader's language (issue 12
    review, point 1): ``characters`` (an int), ``price_text`` (the price with every stored
    decimal: "0,0100 $" / "$0.0100", ``pricing.price_text``), ``encoding_text`` (what a
    Unicode text costs, in words: "special characters: 67 per segment"; "" in GSM-7) and
    ``summary``, the counter's line: "1 segment · 42 characters · 0,0100 $"."""
    prices = pricing()
    try:
        count = count_segments(body, **segment_rule())
    except MessageTooLong as exc:
        return {
            "error": {
                "code": "too_long",
                "message": _(
                    "The message has %(count)s characters; the limit is %(limit)s.",
                    count=format_decimal(exc.characters, locale=reader_locale()),
                    limit=format_decimal(exc.limit, locale=reader_locale()),
                ),
            }
        }, 422
    result = as_json(count, prices.price_per_segment, prices.currency)
    result["replacements"] = plain_replacements(body)
    result.update(counter_texts(count, Decimal(result["price"]), prices.currency))
    return result, 200


def counter_texts(count: SegmentCount, amount: Decimal, currency: str) -> dict:
    """Return what the live counter says of ``count`` priced ``amount`` in ``currency``,
    in the reader's language and number format: ``characters``, ``price_text``,
    ``encoding_text`` and ``summary`` (see ``preview``)."""
    locale = reader_locale()
    segments_text = ngettext(
        "%(count)s segment",
        "%(count)s segments",
        count.segments,
        count=format_decimal(count.segments, locale=locale),
    )
    characters_text = ngettext(
        "%(count)s character",
        "%(count)s characters",
        count.characters,
        count=format_decimal(count.characters, locale=locale),
    )
    encoding_text = ""
    if count.encoding == UCS_2:
        encoding_text = _(
            "special characters: %(per)s characters per segment",
            per=segment_rule()["unicode_per_segment"],
        )
    money_text = price_text(amount, currency)
    return {
        "characters": count.characters,
        "price_text": money_text,
        "encoding_text": encoding_text,
        "summary": " · ".join(
            part for part in (segments_text, characters_text, encoding_text, money_text) if part
        ),
    }
