"""The compliance registers: the opt-out register (every opt-out and opt-in event) and the
consent register (the consent ledger kept by ``compliance.consent``), PRODUCT.md §4, §5."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from host.api import Company, Customer, Report, localdate
from plugins.sms_module.compliance.consent import LEDGER_COLUMNS, ledger_rows
from plugins.sms_module.models import ConsentKind, OptOutAction, OptOutEvent
from plugins.sms_module.reports import cells
from plugins.sms_module.reports.cells import Column
from plugins.sms_module.reports.filters import (
    check_filters,
    choices,
    filters,
    read_filters,
    zone_name,
)
from plugins.sms_module.reports.sql import in_window, local_time, stream

OPT_OUT_COLUMNS = (
    Column("at", _l("Time")),
    Column("phone", _l("Phone")),
    Column("action", _l("Action")),
    Column("source", _l("Source")),
    Column("raw_message", _l("Message received")),
    Column("shop", _l("Shop")),
)
# The consent ledger's columns (``compliance.consent.LEDGER_COLUMNS``), headed for people.
_LEDGER_LABELS = {
    "id": _l("Entry"),
    "customer_id": _l("Customer number"),
    "customer": _l("Customer"),
    "phone": _l("Phone"),
    "event": _l("Event"),
    "method": _l("Method"),
    "obtained_at": _l("Obtained"),
    "reference": _l("Reference"),
    "recorded_by": _l("Recorded by"),
    "recorded_at": _l("Recorded"),
    "text": _l("Text"),
}
CONSENT_COLUMNS = tuple(Column(c, _LEDGER_LABELS.get(c, c)) for c in LEDGER_COLUMNS)


def opt_out_rows(company, filtered: Mapping[str, str]) -> Iterator[tuple]:
    """Yield the opt-out and opt-in events, newest first, as OPT_OUT_COLUMNS (the time in
    the viewer's zone, the action and source as ``Coded``).

    A shop sees the events recorded in its name and those of its customers' phones (the
    list is platform-wide), without the name of another shop; the operator sees them all.
    """
    criteria = read_filters(filtered, zone_name(company))
    e = OptOutEvent
    query = (
        select(e.at, e.phone, e.action, e.source, e.raw_message, e.company_id, Company.name)
        .outerjoin(Company, Company.id == e.company_id)
        .order_by(e.at.desc(), e.id.desc())
    )
    if company is not None:
        own_phones = select(Customer.mobile_phone).where(
            Customer.company_id == company.id, Customer.mobile_phone.is_not(None)
        )
        query = query.where(or_(e.company_id == company.id, e.phone.in_(own_phones)))
    query = in_window(query, e.at, criteria)
    if action := criteria.choice.get("action"):
        query = query.where(e.action == OptOutAction(action))
    if criteria.phone:
        query = query.where(e.phone.contains(criteria.phone, autoescape=True))
    for at, phone, action, source, raw, company_id, shop in stream(query):
        if company_id is None:
            where = _("platform")
        elif company is None or company_id == company.id:
            where = shop or ""
        else:
            where = _("another shop")
        yield (
            local_time(at, criteria.zone),
            phone,
            cells.action(action),
            cells.source(source),
            raw or "",
            where,
        )


def opt_out_register() -> Report:
    """Describe the opt-out register."""
    return Report(
        name="sms_opt_out_register",
        title=_l("SMS opt-out register"),
        columns=OPT_OUT_COLUMNS,
        rows=opt_out_rows,
        description=_l(
            "Every opt-out (STOP, carrier refusal…) and opt-in recorded by the shop or about "
            "its customers' phones, with the message received: the opt-out list is shared by "
            "every shop."
        ),
        filters=filters("phone", "action", "from", "to"),
        check_filters=check_filters,
        filter_choices=choices("action"),
    )


def consent_rows(company, filtered: Mapping[str, str]) -> Iterator[tuple]:
    """Yield the consent ledger (``compliance.consent.ledger_rows``: its CSV unchanged)
    with its event and method as ``Coded`` and its times read in the viewer's zone."""
    for row in ledger_rows(company.id if company else None):
        row = list(row)
        row[4] = cells.consent_kind(row[4])
        row[5] = cells.consent_method(row[5])
        row[6] = _obtained(row[6], row[4], company)
        row[9] = cells.iso_time(row[9], company)
        yield tuple(row)


def _obtained(text: str, kind: str, company) -> cells.Coded | str:
    """When consent was obtained, as the customer's page says it (``consent.obtained_day``):
    for consent given, the day typed on the form (stored at noon UTC, its UTC date); for a
    withdrawal, the moment in the viewer's zone. The CSV keeps the ISO 8601 text."""
    if not text or kind != ConsentKind.GIVEN:
        return cells.iso_time(text, company)
    return cells.Coded(text, localdate(datetime.fromisoformat(text).date()))


def consent_register() -> Report:
    """Describe the consent ledger report."""
    return Report(
        name="sms_consent_register",
        title=_l("SMS consent register"),
        columns=CONSENT_COLUMNS,
        rows=consent_rows,
        description=_l("Every consent given or withdrawn, and every disclaimer sent."),
    )
