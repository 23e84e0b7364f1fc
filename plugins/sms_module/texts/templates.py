"""Shop message templates: per event and language, switchable, rendered in a Jinja sandbox.

Each event has a built-in text in English and French; a shop may replace either with its own
(PRODUCT.md §10). A template is plain text with ``{{ variable }}`` placeholders from
``VARIABLES``, the filters of ``FILTERS`` (``{{ first_name|upper }}``) and ``{% if %}``
blocks. Nothing else is accepted: no attribute or item access, calls, loops, arithmetic or
includes, so a saved template cannot reach Python objects or build a huge text; rendering
still runs in a ``SandboxedEnvironment`` with ``StrictUndefined`` (autoescape off: SMS is
plain text) as a second line. ``validate_body`` refuses a bad template when it is saved, by
rendering it with sample values, so sending never discovers it.

"Enabled" is per event, not per language: the language is picked for each customer
(``message_language``), and a shop that switches a message off means it for everybody. The
settings page writes the same value on both language rows; an event is on unless a row says
otherwise.
"""

from __future__ import annotations

import difflib
import logging
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency
from flask import has_app_context
from flask_babel import gettext as _
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from sqlalchemy import select

from host.extensions import db
from host.models import Appointment, Company, Customer, Invoice
from plugins.sms_module.models import SmsTemplate
from plugins.sms_module.texts.defaults import DEFAULTS
from plugins.sms_module.texts.segments import MessageTooLong, count_segments, replace_lookalikes

log = logging.getLogger(__name__)


def N_(text: str) -> str:
    """Mark ``text`` for the catalog; the page translates it when showing it."""
    return text


APPOINTMENT_BOOKED = "appointment_booked"
APPOINTMENT_MOVED = "appointment_moved"
APPOINTMENT_CANCELLED = "appointment_cancelled"
APPOINTMENT_REMINDER = "appointment_reminder"
VEHICLE_READY = "vehicle_ready"
INVOICE_PRINTED = "invoice_printed"
WELCOME = "welcome"
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
FILTERS: tuple[str, ...] = ("upper", "lower", "capitalize", "title", "trim", "default", "replace")

_DATE_PATTERNS = {"en": "EEEE, MMMM d", "fr": "EEEE d MMMM"}
# The refused constructs, by the words a shop administrator reads.
_REFUSED = {
    (nodes.Getattr, nodes.Getitem): N_("attribute and item access"),
    (nodes.Call,): N_("function and method calls"),
    (nodes.For,): N_("loops"),
    (nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport): N_("other templates"),
    (nodes.Macro, nodes.CallBlock): N_("macros"),
    (nodes.Assign, nodes.AssignBlock, nodes.With): N_("setting variables"),
    (nodes.BinExpr, nodes.UnaryExpr): N_("arithmetic"),
}
_ALLOWED = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.If,
    nodes.CondExpr, nodes.And, nodes.Or, nodes.Not, nodes.Compare, nodes.Operand,
    nodes.Concat, nodes.Filter, nodes.Test,
)  # fmt: skip


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with the multiplying operators checked too (they can build huge texts)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context, operator, left, right):
        raise SecurityError(f"the {operator} operator is not available in messages")


ENVIRONMENT = _Sandbox(
    undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
)
ENVIRONMENT.globals.clear()  # no range(), cycler(), namespace(), lipsum()


def message_language(customer: Customer | None, company: Company | None) -> str:
    """Return "fr" or "en": the customer's language, else the shop's (Quebec: French)."""
    for code in (customer and customer.language, company and company.language):
        code = (code or "").strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "fr" if company is not None and company.province == "QC" else "en"


def disclaimer_text(company: Company, language: str) -> str:
    """Return the first-SMS disclaimer (PRODUCT.md §5): who writes, why, how to stop."""
    name = replace_lookalikes(company.name.strip())
    if _language(language) == "fr":
        return (
            f"{name} vous enverra des textos au sujet de vos rendez-vous et de votre "
            "véhicule; répondez ARRET pour vous désabonner, AIDE pour de l'aide."
        )
    return (
        f"{name} will text you about your appointments and your vehicle; "
        "reply STOP to unsubscribe, HELP for help."
    )


def render_event(
    company: Company,
    event: str,
    language: str,
    *,
    customer: Customer | None = None,
    appointment: Appointment | None = None,
    invoice: Invoice | None = None,
) -> str | None:
    """Return the shop's text for ``event`` filled in, or None when the shop switched it off."""
    event, language = _event(event), _language(language)
    saved = rows(company.id, event)
    if any(not row.enabled for row in saved):
        return None
    values = variables(
        company, language, customer=customer, appointment=appointment, invoice=invoice
    )
    custom = next((row.body for row in saved if row.language == language and row.body), None)
    if custom is not None:
        try:
            return render_body(custom, values)
        except Exception:  # saved before a change of the variables: the default still goes
            log.warning("Shop %s's %s/%s template failed", company.id, event, language, exc_info=1)
    return render_body(DEFAULTS[event][language], values)


def variables(
    company: Company | None,
    language: str,
    *,
    customer: Customer | None = None,
    appointment: Appointment | None = None,
    invoice: Invoice | None = None,
) -> dict[str, str]:
    """Build every variable from the objects given; what they do not tell is empty."""
    language = _language(language)
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
    language = _language(language)
    zone = _zone(company) if company else ZoneInfo("America/Toronto")
    when = datetime(2026, 9, 30, 14, 30, tzinfo=zone)  # "mercredi 30 septembre": a long one
    time, date = _when(when, company, language, zone)
    return {
        "first_name": "Alexandre",
        "shop_name": replace_lookalikes(company.name) if company else "Garage Saint-Laurent",
        "appointment_time": time,
        "appointment_date": date,
        "vehicle": "Toyota RAV4 2021",
        "invoice_number": "F-10245",
        "invoice_total": _money(Decimal("1234.56"), company, language),
    }


def validate_body(body: str, event: str | None = None) -> list[str]:
    """Return what is wrong with a template (empty when it may be saved)."""
    if not isinstance(body, str) or not body.strip():
        return [_("The message is empty: write the text to send.")]
    if error := _length_error(body):
        return [error]
    try:
        tree = ENVIRONMENT.parse(body)
    except TemplateSyntaxError as exc:
        return [_("Syntax error on line %(line)s: %(detail)s.", line=exc.lineno, detail=exc)]
    errors = _check_tree(tree, event)
    if errors:
        return errors
    for language in LANGUAGES:
        try:
            text = render_body(body, sample_variables(None, language))
        except Exception as exc:  # any failure is the template's: say it, never a 500
            return [_("The template cannot be filled in: %(detail)s.", detail=exc)]
        if not text:
            return [_("The message is empty once its variables are filled in.")]
        if error := _length_error(text):
            return [error]
    return []


def _check_tree(tree: nodes.Template, event: str | None) -> list[str]:
    available = EVENT_VARIABLES.get(event, tuple(VARIABLES)) if event else tuple(VARIABLES)
    errors: list[str] = []
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED):
            what = next((w for kinds, w in _REFUSED.items() if isinstance(node, kinds)), None)
            errors.append(
                _(
                    "Messages may not use %(what)s: use variables such as {{ first_name }}, "
                    "filters and {%% if %%} blocks.",
                    what=_(what) if what else type(node).__name__,
                )
            )
        elif isinstance(node, nodes.Filter) and node.name not in FILTERS:
            errors.append(
                _(
                    "Unknown filter %(name)s: the filters are %(names)s.",
                    name=node.name,
                    names=", ".join(FILTERS),
                )
            )
        elif isinstance(node, nodes.Name) and node.name not in VARIABLES:
            close = difflib.get_close_matches(node.name, VARIABLES, n=1)
            errors.append(
                _(
                    "Unknown variable %(name)s: did you mean %(match)s?",
                    name=node.name,
                    match=close[0],
                )
                if close
                else _(
                    "Unknown variable %(name)s: the variables are %(names)s.",
                    name=node.name,
                    names=", ".join(VARIABLES),
                )
            )
        elif isinstance(node, nodes.Name) and node.name not in available:
            errors.append(
                _("The variable %(name)s is not available in this message.", name=node.name)
            )
    return list(dict.fromkeys(errors))


def rows(company_id: int, event: str) -> list[SmsTemplate]:
    """Return the shop's saved rows of ``event`` (none while it uses the defaults)."""
    return list(
        db.session.scalars(
            select(SmsTemplate).where(
                SmsTemplate.company_id == company_id, SmsTemplate.event == event
            )
        )
    )


def event_enabled(company_id: int, event: str) -> bool:
    """Tell whether the shop sends ``event`` (on unless a row says otherwise)."""
    return all(row.enabled for row in rows(company_id, _event(event)))


def current_body(company_id: int, event: str, language: str) -> tuple[str, bool]:
    """Return the template the shop uses for (event, language) and whether it is its own."""
    event, language = _event(event), _language(language)
    custom = next(
        (r.body for r in rows(company_id, event) if r.language == language and r.body), None
    )
    return (custom, True) if custom is not None else (DEFAULTS[event][language], False)


def render_body(body: str, values: dict[str, str]) -> str:
    """Fill a validated template with ``values`` in the sandbox."""
    return ENVIRONMENT.from_string(body).render(values).strip()


def _length_error(text: str) -> str | None:
    rule = {}
    if has_app_context():
        from plugins.sms_module.sending.service import segment_rule

        rule = segment_rule()
    try:
        count_segments(text, **rule)
    except MessageTooLong as exc:
        return _(
            "The message has %(count)s characters; the limit is %(limit)s.",
            count=exc.characters,
            limit=exc.limit,
        )
    return None


def _when(
    moment: datetime, company: Company | None, language: str, zone: ZoneInfo | None = None
) -> tuple[str, str]:
    local = moment.astimezone(zone or _zone(company))
    locale = _locale(company, language)
    date = format_datetime(local, _DATE_PATTERNS[language], tzinfo=local.tzinfo, locale=locale)
    if language == "fr":
        time = format_datetime(local, "H 'h' mm", tzinfo=local.tzinfo, locale=locale)
        return replace_lookalikes(f"{date} à {time}"), replace_lookalikes(date)
    # AM/PM, not en_CA's "p.m.": a time ending a sentence would end with "p.m.."
    time = format_datetime(local, "h:mm", tzinfo=local.tzinfo, locale=locale)
    period = "AM" if local.hour < 12 else "PM"
    return replace_lookalikes(f"{date} at {time} {period}"), replace_lookalikes(date)


def _zone(company: Company | None) -> ZoneInfo:
    return ZoneInfo((company.time_zone if company else None) or "UTC")


def _money(amount: Decimal, company: Company | None, language: str) -> str:
    currency = "USD" if company is not None and company.country == "US" else "CAD"
    return replace_lookalikes(format_currency(amount, currency, locale=_locale(company, language)))


def _locale(company: Company | None, language: str) -> str:
    # Explicit, never the request's locale: the customer reads it, not the user.
    if language == "fr":
        return "fr_CA"
    return "en_US" if company is not None and company.country == "US" else "en_CA"


def _language(language: str) -> str:
    code = (language or "").strip().lower()
    if code not in LANGUAGES:
        raise ValueError(f"language is one of {', '.join(LANGUAGES)}, not {language!r}")
    return code


def _event(event: str) -> str:
    if event not in EVENTS:
        raise ValueError(f"event is one of {', '.join(EVENTS)}, not {event!r}")
    return event
