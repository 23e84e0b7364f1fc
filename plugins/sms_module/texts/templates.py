"""Shop message templates: per event and language, switchable, rendered in a Jinja sandbox.

Each event has a built-in text in English and French; a shop may replace either with its own
(PRODUCT.md §10). A template may use the variables of ``variables`` and what the sandbox allows
(``sandbox``); ``validate_body`` refuses a bad template when it is saved, by
rendering it with sample values, so sending never discovers it.

"Enabled" is per event, not per language: the language is picked for each customer
(``message_language``), and a shop that switches a message off means it for everybody. The
settings page writes the same value on both language rows; an event is on unless a row says
otherwise.
"""

from __future__ import annotations

import logging
import re

from flask import has_app_context
from flask_babel import format_decimal
from flask_babel import gettext as _
from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SecurityError
from sqlalchemy import select

from host.api import Appointment, Company, Customer, Invoice, db
from plugins.sms_module.models import SmsTemplate
from plugins.sms_module.texts.defaults import DEFAULTS, disclaimer_text
from plugins.sms_module.texts.pricing import segment_rule
from plugins.sms_module.texts.sandbox import (
    DEPTH_LIMIT,
    ENVIRONMENT,
    FILTERS,
    N_,
    RENDER_LIMIT,
    TemplateTooBig,
    largest_length,
    parse,
    render_body,
)
from plugins.sms_module.texts.segments import MessageTooLong, count_segments
from plugins.sms_module.texts.template_check import check_tree, syntax_error, unknown_variable
from plugins.sms_module.texts.variables import (
    APPOINTMENT_BOOKED,
    APPOINTMENT_CANCELLED,
    APPOINTMENT_MOVED,
    APPOINTMENT_REMINDER,
    EVENT_VARIABLES,
    EVENTS,
    INVOICE_PRINTED,
    LANGUAGES,
    VARIABLES,
    VEHICLE_READY,
    WELCOME,
    checked_event,
    checked_language,
    sample_variables,
    variables,
)

__all__ = [
    "APPOINTMENT_BOOKED",
    "APPOINTMENT_CANCELLED",
    "APPOINTMENT_MOVED",
    "APPOINTMENT_REMINDER",
    "ENVIRONMENT",
    "EVENTS",
    "EVENT_VARIABLES",
    "FILTERS",
    "INVOICE_PRINTED",
    "LANGUAGES",
    "N_",
    "TemplateTooBig",
    "VARIABLES",
    "VEHICLE_READY",
    "WELCOME",
    "current_body",
    "disclaimer_text",
    "event_enabled",
    "fill_error",
    "limit_error",
    "message_language",
    "render_body",
    "render_event",
    "rows",
    "sample_variables",
    "validate_body",
    "variables",
]

log = logging.getLogger(__name__)


def message_language(customer: Customer | None, company: Company | None) -> str:
    """Return "fr" or "en": the customer's language, else the shop's (Quebec: French)."""
    for code in (customer and customer.language, company and company.language):
        code = (code or "").strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "fr" if company is not None and company.province == "QC" else "en"


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
    event, language = checked_event(event), checked_language(language)
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


def validate_body(body: str, event: str | None = None) -> list[str]:
    """Return what is wrong with a template (empty when it may be saved)."""
    if not isinstance(body, str) or not body.strip():
        return [_("The message is empty: write the text to send.")]
    if error := _length_error(body):
        return [error]
    try:
        tree = parse(body)
    except TemplateSyntaxError as exc:  # in plain words, never Jinja's (issue 12 point 9)
        return [syntax_error(body, exc)]
    except TemplateTooBig as exc:
        return [limit_error(exc)]
    available = EVENT_VARIABLES.get(event, tuple(VARIABLES)) if event else tuple(VARIABLES)
    errors = check_tree(tree, VARIABLES, available)
    if errors:
        return errors
    if largest_length(tree) > RENDER_LIMIT:  # with the longest names, not just the samples
        return [limit_error(TemplateTooBig("long"))]
    for language in LANGUAGES:
        try:
            text = render_body(body, sample_variables(None, language))
        except Exception as exc:  # any failure is the template's: say it, never a 500
            return [fill_error(exc, body)]
        if not text:
            return [_("The message is empty once its variables are filled in.")]
        if error := _length_error(text):
            return [error]
    return []


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
    return all(row.enabled for row in rows(company_id, checked_event(event)))


def current_body(company_id: int, event: str, language: str) -> tuple[str, bool]:
    """Return the template the shop uses for (event, language) and whether it is its own."""
    event, language = checked_event(event), checked_language(language)
    custom = next(
        (r.body for r in rows(company_id, event) if r.language == language and r.body), None
    )
    return (custom, True) if custom is not None else (DEFAULTS[event][language], False)


def fill_error(exc: Exception, body: str | None = None) -> str:
    """Say, for people, why filling a template in failed: the bound it passes
    (``limit_error``), the variable it names that does not exist, the syntax error in
    ``body`` (``template_check.syntax_error``), what of the sandbox it uses, else a
    translated sentence; never Python's or Jinja's own message ("integer modulo by zero",
    "'frist_name' is undefined"...), which the log keeps instead (issue 12 point 9)."""
    if isinstance(exc, TemplateTooBig):
        return limit_error(exc)
    log.info("A template cannot be filled in: %r", exc)
    if isinstance(exc, TemplateSyntaxError):
        return syntax_error(body if body is not None else exc.source or "", exc)
    undefined = re.search(r"'(\w+)' is undefined", str(exc))
    if isinstance(exc, UndefinedError) and undefined:
        return unknown_variable(undefined.group(1), VARIABLES)
    if isinstance(exc, SecurityError):
        return _(
            "The message uses what messages may not use: keep to the variables of the list, "
            "filters such as %(filter)s and %(block)s blocks.",
            filter="|upper",
            block="{% if %}",
        )
    return _("The template cannot be filled in: check its filters and values.")


def limit_error(exc: TemplateTooBig) -> str:
    """Say, for people, which bound of the sandbox a template passes (issue 13 §6)."""
    if exc.reason == "deep":
        return _(
            "The message nests too deeply (more than %(limit)s levels of brackets, filters or "
            "conditions): simplify it.",
            limit=DEPTH_LIMIT,
        )
    return _(
        "The message could grow past %(limit)s characters while it is filled in (a filter "
        "such as replace('', ...) multiplies the text): simplify it.",
        limit=format_decimal(RENDER_LIMIT),
    )


def _length_error(text: str) -> str | None:
    rule = segment_rule() if has_app_context() else {}
    try:
        count_segments(text, **rule)
    except MessageTooLong as exc:
        return _(
            "The message has %(count)s characters; the limit is %(limit)s.",
            count=exc.characters,
            limit=exc.limit,
        )
    return None
