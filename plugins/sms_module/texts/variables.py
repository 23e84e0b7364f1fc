"""The variables of shop templates and their values: names, dates and money written for
the customer, in the customer's language and the shop's time zone (PRODUCT.md §10)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency

from host.api import Appointment, Company, Customer, Invoice, shop_zone, utcnow
from plugins.sms_module.models import Kind
from plugins.sms_module.texts.sandbox import N_
from plugins.sms_module.texts.segments import replace_lookalikes

APPOINTMENT_BOOKED = Kind.APPOINTMENT_BOOKED
APPOINTMENT_MOVED = Kind.APPOINTMENT_MOVED
APPOINTMENT_CANCELLED = Kind.APPOINTMENT_CANCELLED
APPOINTMENT_REMINDER = Kind.APPOINTMENT_REMINDER
VEHICLE_READY = Kind.VEHICLE_READY
INVOICE_PRINTED = Kind.INVOICE_PRINTED
WELCOME = Kind.WELCOME
EVENTS: tuple[str, ...] = (
    APPOINTMENT_BOOKED,
    APPOINTMENT_MOVED,
    APPOINTMENT_CANCELLED,
    APPOINTMENT_REMINDER,
    VEHICLE_READY,
    INVOICE_PRINTED,
    WELCOME,
)
LANGUAGES: tuple[str, ...] = ("en", "fr")

# Name -> description (English, marked for the catalog: show it through gettext).
VARIABLES: dict[str, str] = {
    "first_name": N_("The customer's first name"),
    "shop_name": N_("The shop's name"),
    "appointment_time": N_("The appointment's day and time, in the shop's time zone"),
    "appointment_date": N_("The appointment's day, in the shop's time zone"),
    "vehicle": N_("The vehicle of the appointment"),
    "invoice_number": N_("The invoice number"),
    "invoice_total": N_("The invoice total, with its currency"),
}
_APPOINTMENT = ("first_name", "shop_name", "appointment_time", "appointment_date", "vehicle")
EVENT_VARIABLES: dict[str, tuple[str, ...]] = {
    **{event: _APPOINTMENT for event in EVENTS[:5]},
    INVOICE_PRINTED: ("first_name", "shop_name", "invoice_number", "invoice_total"),
    WELCOME: ("first_name", "shop_name"),
}
_DATE_PATTERNS = {"en": "EEEE, MMMM d", "fr": "EEEE d MMMM"}
# A date this far from today, or in another year, is written with its year.
_WITH_YEAR = {"en": "EEEE, MMMM d, y", "fr": "EEEE d MMMM y"}
YEAR_AFTER = timedelta(days=183)


def variables(
    company: Company | None,
    language: str,
    *,
    customer: Customer | None = None,
    appointment: Appointment | None = None,
    invoice: Invoice | None = None,
) -> dict[str, str]:
    """Build every variable from the objects given; what they do not tell is empty."""
    language = checked_language(language)
    if customer is None:
        customer = (appointment and appointment.customer) or (invoice and invoice.customer)
    values = dict.fromkeys(VARIABLES, "")
    values["shop_name"] = company.name if company is not None else ""
    if customer is not None:
        values["first_name"] = customer.first_name or ""
    if appointment is not None:
        values["appointment_time"], values["appointment_date"] = _when(
            appointment.starts_at, company, language
        )
        values["vehicle"] = appointment.vehicle or ""
    if invoice is not None:
        values["invoice_number"] = invoice.number
        values["invoice_total"] = _money(invoice.total, company, language)
    # No-break spaces from Babel and curly quotes from names would force Unicode (§8).
    return {name: replace_lookalikes(value.strip()) for name, value in values.items()}


def sample_variables(company: Company | None, language: str) -> dict[str, str]:
    """Return the values the preview and the save check fill a template with."""
    language = checked_language(language)
    zone = shop_zone(company) if company else ZoneInfo("America/Toronto")  # a sample
    when = datetime(2026, 9, 30, 14, 30, tzinfo=zone)  # "mercredi 30 septembre": a long one
    time, date = _when(when, company, language, zone, now=when)
    return {
        "first_name": "Alexandre",
        "shop_name": replace_lookalikes(company.name) if company else "Garage Saint-Laurent",
        "appointment_time": time,
        "appointment_date": date,
        "vehicle": "Toyota RAV4 2021",
        "invoice_number": "F-10245",
        "invoice_total": _money(Decimal("1234.56"), company, language),
    }


def _when(
    moment: datetime,
    company: Company | None,
    language: str,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
) -> tuple[str, str]:
    """Return ``moment`` as (day and time, day) in the customer's language, shop time; with
    its year when it is in another year than ``now`` or more than ``YEAR_AFTER`` away."""
    local = moment.astimezone(zone or shop_zone(company))
    today = (now or utcnow()).astimezone(local.tzinfo)
    far = local.year != today.year or abs(local - today) > YEAR_AFTER
    pattern = (_WITH_YEAR if far else _DATE_PATTERNS)[language]
    if language == "fr" and local.day == 1:
        pattern = pattern.replace(" d ", " d'er' ")  # « le 1er décembre », never « 1 décembre »
    locale = _locale(company, language)
    date = format_datetime(local, pattern, tzinfo=local.tzinfo, locale=locale)
    if language == "fr":
        time = format_datetime(local, "H 'h' mm", tzinfo=local.tzinfo, locale=locale)
        return replace_lookalikes(f"{date} à {time}"), replace_lookalikes(date)
    # AM/PM, not en_CA's "p.m.": a time ending a sentence would end with "p.m.."
    time = format_datetime(local, "h:mm", tzinfo=local.tzinfo, locale=locale)
    period = "AM" if local.hour < 12 else "PM"
    return replace_lookalikes(f"{date} at {time} {period}"), replace_lookalikes(date)


def _money(amount: Decimal, company: Company | None, language: str) -> str:
    currency = "USD" if company is not None and company.country == "US" else "CAD"
    return replace_lookalikes(format_currency(amount, currency, locale=_locale(company, language)))


def _locale(company: Company | None, language: str) -> str:
    # Explicit, never the request's locale: the customer reads it, not the user.
    if language == "fr":
        return "fr_CA"
    return "en_US" if company is not None and company.country == "US" else "en_CA"


def checked_language(language: str) -> str:
    code = (language or "").strip().lower()
    if code not in LANGUAGES:
        raise ValueError(f"language is one of {', '.join(LANGUAGES)}, not {language!r}")
    return code


def checked_event(event: str) -> str:
    if event not in EVENTS:
        raise ValueError(f"event is one of {', '.join(EVENTS)}, not {event!r}")
    return event
