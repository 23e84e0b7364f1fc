"""What the SMS reports' cells hold: the machine value the CSV writes, and the label the
page shows (issue 12, points 1, 2 and 6).

The reports plugin shows any value with a ``label`` attribute by that label, a ``datetime``
in its own zone through Babel, and a number through Babel; the CSV writes ``str(value)``
(a code, "2025-01-05", "0.00830") or the time's ISO form, as before. So a report's row
carries typed values and each output formats them its way:

- ``Coded``: a code ("delivered", "transactional") with its label ("Distribué");
- ``Period``: a day "2025-01-05" or a month "2025-01", read "5 janv. 2025", "janvier 2025";
- ``Amount``: an amount to the precision of stored prices ("0.00830") in its currency,
  read "0,0083 $" (``host.api.money`` when cents are enough);
- ``Figure``: a computed figure written as before ("95.0", "12.5"), read as a percentage or
  seconds in the reader's locale;
- ``Column``: a column's key (the CSV's header) with its heading on the page; a page-only
  column (``page_only``) is left out of the CSV;
- ``Filter``: a filter's name (the query parameter) with its label and its input's type.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date, format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent
from flask import g, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext

from host.api import localtime, money, reader_locale
from plugins.sms_module.models import (
    Direction,
    Kind,
)
from plugins.sms_module.models.statuses import REFUSED, Status
from plugins.sms_module.texts.labels import (
    CONSENT_KINDS,
    CONSENT_METHODS,
    OPT_OUT_ACTIONS,
    QUEUE_LABELS,
    SOURCES,
)
from plugins.sms_module.texts.preview import LABELS as STATUS_LABELS
from plugins.sms_module.texts.reasons import failure_text

NO_REPORT = "sent (no delivery report)"  # how a Sent message long without report is coded (§6)
EXCERPT_CHARACTERS = 60  # how much of a message's text the message log shows


def _locale() -> str:
    """The reader's locale (``host.api.reader_locale``), found once a page."""
    if not has_app_context():
        return reader_locale()
    found = g.get("sms_report_locale")
    if found is None:
        found = g.sms_report_locale = reader_locale()
    return found


@lru_cache(maxsize=4096)
def _period_text(period: str, where: str) -> str:
    if len(period) == 7:
        return format_skeleton("yMMMM", date.fromisoformat(f"{period}-01"), locale=where)
    return format_date(date.fromisoformat(period), "medium", locale=where)


@lru_cache(maxsize=4096)
def _amount_text(amount: Decimal, currency: str, where: str) -> str:
    if amount == amount.quantize(Decimal("0.01")):
        return money(amount, currency)
    return format_currency(
        amount.normalize(),
        currency,
        locale=where,
        currency_digits=False,
        decimal_quantization=False,
    )


class Column(str):
    """A column's key (``str``: the CSV header) with the ``label`` the page heads it with.

    ``page_only`` columns (the message's text in the log) are shown, never exported."""

    label: object
    page_only: bool

    def __new__(cls, key: str, label, *, page_only: bool = False) -> Column:
        column = super().__new__(cls, key)
        column.label = label
        column.page_only = page_only
        return column


class Filter(str):
    """A filter's name (``str``: the query parameter) with its ``label`` and the type of its
    input ("date" for the ``from`` and ``to`` days, "text" otherwise)."""

    label: object
    input_type: str

    def __new__(cls, name: str, label, input_type: str = "text") -> Filter:
        item = super().__new__(cls, name)
        item.label = label
        item.input_type = input_type
        return item


class Coded(str):
    """A code (``str``: what the CSV writes and the filters read) with its ``label``."""

    label: object

    def __new__(cls, code: str, label) -> Coded:
        cell = super().__new__(cls, code)
        cell.label = label
        return cell


class Period(str):
    """A day (YYYY-MM-DD) or a month (YYYY-MM) of the viewer's zone, read in its locale."""

    @property
    def label(self) -> str:
        return _period_text(str(self), _locale())


class Amount(Decimal):
    """An amount (``Decimal``, written "0.00830" in the CSV) in ``currency`` (ISO 4217)."""

    currency: str

    def __new__(cls, value, currency: str | None) -> Amount:
        amount = super().__new__(cls, value)
        amount.currency = currency or "CAD"
        return amount

    @property
    def label(self) -> str:
        """The amount the reader's way: "75,50 $" in French, "$75.50" in English; a price
        finer than a cent keeps its digits ("0,0083 $"), never rounded to "0,01 $"."""
        return _amount_text(Decimal(self), self.currency, _locale())


class Figure(Decimal):
    """A computed figure (``Decimal``, written as before in the CSV: "95.0", "12.5") shown
    as a percentage ("95,0 %") or a number of seconds ("12,5 s")."""

    unit: str

    def __new__(cls, value, unit: str) -> Figure:
        figure = super().__new__(cls, value)
        figure.unit = unit
        return figure

    @property
    def label(self) -> str:
        if self.unit == "percent":
            return format_percent(self / 100, locale=reader_locale(), decimal_quantization=False)
        return _("%(seconds)s s", seconds=format_decimal(self, "#,##0.0", locale=reader_locale()))


class _LazyTime:
    """A time's label, written in the language of the page that shows it, in the zone of
    ``company`` (``host.api.localtime``: the operator reads UTC, named)."""

    def __init__(self, moment: datetime, company) -> None:
        self.moment, self.company = moment, company

    def __str__(self) -> str:
        return localtime(self.moment, self.company)


def iso_time(text: str, company) -> Coded | str:
    """A time already written ISO 8601 (what the CSV keeps) read in ``company``'s zone on
    the page ("5 janv. 2025, 10 h 00"); "" stays ""."""
    if not text:
        return ""
    return Coded(text, _LazyTime(datetime.fromisoformat(text), company))


# --- Labels of the codes the reports show ------------------------------------------------

# The queue, consent, opt-out and source labels are ``texts.labels``'s, shared with the
# customer's page, the operator's pages and the start page (one label per code).
DIRECTION_LABELS = {
    Direction.OUTBOUND: _l("Sent to the customer"),
    Direction.INBOUND: _l("Received from the customer"),
}
KIND_LABELS = {
    Kind.MANUAL: _l("Written by staff"),
    Kind.API: _l("Sent through the API"),
    Kind.DISCLAIMER: _l("Disclaimer"),
    Kind.CAMPAIGN: _l("Campaign"),
    Kind.INBOUND: _l("Customer's text"),
    Kind.KEYWORD_ANSWER: _l("Answer to a keyword"),
    Kind.REPLY: _l("Reply from staff"),
    Kind.REPLY_FORWARD: _l("Reply forwarded to the shop"),
    Kind.APPOINTMENT_BOOKED: _l("Appointment booked"),
    Kind.APPOINTMENT_MOVED: _l("Appointment moved"),
    Kind.APPOINTMENT_CANCELLED: _l("Appointment cancelled"),
    Kind.APPOINTMENT_REMINDER: _l("Appointment reminder"),
    Kind.VEHICLE_READY: _l("Vehicle ready"),
    Kind.INVOICE_PRINTED: _l("Invoice printed"),
    Kind.WELCOME: _l("Welcome (consent given)"),
}
PERIOD_LABELS = {"day": _l("Day"), "month": _l("Month")}


def status_name(code: str) -> str:
    """Return the label of a status as the reports code it: a ``Status``, "refused" or
    "sent (no delivery report)"."""
    if code == REFUSED:
        return pgettext("message status", "Refused")
    if code == NO_REPORT:
        return _("Sent — no delivery report")
    try:
        return str(STATUS_LABELS[Status(code)])
    except ValueError:
        return code


def _coded(labels):
    def make(code) -> Coded | str:
        if code is None or code == "":
            return ""
        code = str(code)
        label = labels.get(code)
        return Coded(code, label if label is not None else code)

    return make


def status(code) -> Coded | str:
    """A status cell: its code and its label (``status_name``), one label per code (the
    page translates each once)."""
    if not code:
        return ""
    code = str(code)
    label = _STATUS_LABELS.get(code)
    if label is None:
        label = _STATUS_LABELS[code] = _LazyStatus(code)
    return Coded(code, label)


_STATUS_LABELS: dict[str, _LazyStatus] = {}


class _LazyStatus:
    """The label of a status, read in the language of the page that shows it."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __str__(self) -> str:
        return status_name(self.code)


queue = _coded(QUEUE_LABELS)
direction = _coded(DIRECTION_LABELS)
kind = _coded(KIND_LABELS)
source = _coded(SOURCES)
action = _coded(OPT_OUT_ACTIONS)
period = _coded(PERIOD_LABELS)
consent_kind = _coded(CONSENT_KINDS)
consent_method = _coded(CONSENT_METHODS)


def excerpt(text: str | None, limit: int = EXCERPT_CHARACTERS) -> str:
    """Return ``text`` on one line, cut to ``limit`` characters with "…" when longer."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def failure_code(code: str | None) -> Coded | str:
    """A failure code read with its meaning where known ("30003 · Unreachable destination
    handset"; a rule's code, "opted_out", by its meaning only: ``texts.reasons.failure_text``);
    "" when there is none."""
    if not code:
        return ""
    meaning = failure_text(code)
    if meaning in ("", code):
        return Coded(code, code)
    # The carrier's numbers are shown with their meaning; a rule's code by its meaning only.
    return Coded(code, f"{code} · {meaning}" if code.isdigit() else meaning)


def failure_reason(code: str | None, reason: str | None) -> Coded | str:
    """The stored failure reason (what the CSV writes), read in the reader's language
    (``texts.reasons.failure_text``); "" when the message did not fail."""
    if not code and not reason:
        return ""
    return Coded(reason or "", failure_text(code, reason))
