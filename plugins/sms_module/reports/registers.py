"""The compliance registers: the opt-out register (every opt-out and opt-in event) and the
consent register (the consent ledger kept by ``compliance.consent``), PRODUCT.md §4, §5."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from host.api import Company, CsvText, Customer, Report, User, db
from plugins.sms_module.compliance.consent import LEDGER_COLUMNS
from plugins.sms_module.models import (
    ConsentEvent,
    ConsentKind,
    ConsentMethod,
    OptOutAction,
    OptOutEvent,
)
from plugins.sms_module.reports import cells
from plugins.sms_module.reports.cells import Column
from plugins.sms_module.reports.csv_sql import copy_csv, iso_time, number_cell, text_cell
from plugins.sms_module.reports.filters import (
    check_filters,
    choices,
    filters,
    hints,
    phone_matches,
    read_filters,
    zone_name,
)
from plugins.sms_module.reports.paging import (
    newest_first,
    page_of,
    read_id_cursor,
    shaped,
    time_cursor,
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


def _opt_out_query(company, criteria):
    """The opt-out events the viewer may see that the filters keep, unordered: a shop sees
    the events recorded in its name and those of its customers' phones (the list is
    platform-wide), the operator them all."""
    e = OptOutEvent
    query = select(
        e.at, e.phone, e.action, e.source, e.raw_message, e.company_id, Company.name, e.id
    ).outerjoin(Company, Company.id == e.company_id)
    if company is not None:
        own_phones = select(Customer.mobile_phone).where(
            Customer.company_id == company.id, Customer.mobile_phone.is_not(None)
        )
        query = query.where(or_(e.company_id == company.id, e.phone.in_(own_phones)))
    query = in_window(query, e.at, criteria)
    if action := criteria.choice.get("action"):
        query = query.where(e.action == OptOutAction(action))
    if criteria.phone:
        query = query.where(phone_matches(e.phone, criteria.phone))
    return query


def _opt_out_shape(company, zone: str):
    """How an event read becomes OPT_OUT_COLUMNS: the time in the viewer's zone, the action
    and source as ``Coded``, where it was recorded (never another shop's name)."""
    platform, elsewhere = _("platform"), _("another shop")

    def shape(row) -> tuple:
        at, phone, action, source, raw, company_id, shop, _id = row
        if company_id is None:
            where = platform
        elif company is None or company_id == company.id:
            where = shop or ""
        else:
            where = elsewhere
        return (
            local_time(at, zone),
            phone,
            cells.action(action),
            cells.source(source),
            raw or "",
            where,
        )

    return shape


def opt_out_rows(company, filtered: Mapping[str, str]) -> Iterator[tuple]:
    """Return the opt-out and opt-in events, newest first, as OPT_OUT_COLUMNS
    (``_opt_out_shape``), streamed from the database."""
    criteria = read_filters(filtered, zone_name(company))
    e = OptOutEvent
    query = _opt_out_query(company, criteria).order_by(e.at.desc(), e.id.desc())
    return shaped(stream(query), _opt_out_shape(company, criteria.zone))


def opt_out_page(company, filtered: Mapping[str, str], after: str | None, size: int):
    """Return the ``size`` events after the cursor ``after``, newest first, and the cursor
    of the next page (``paging``)."""
    criteria = read_filters(filtered, zone_name(company))
    e = OptOutEvent
    query = newest_first(_opt_out_query(company, criteria), e.at, e.id, after, size)
    key = lambda row: time_cursor(row[0], row[7])  # noqa: E731
    return page_of(query, size, key, _opt_out_shape(company, criteria.zone))


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
        filter_hints=hints("phone"),
        check_filters=check_filters,
        filter_choices=choices("action"),
        page=opt_out_page,
    )


def _ledger_query(company):
    """The consent ledger of the viewer's shop (every shop for the operator) as
    ``compliance.consent.ledger_rows`` reads it, by entry: one query, no row loaded as an
    object (the register of a big shop holds hundreds of thousands of entries)."""
    e, c = ConsentEvent, Customer
    query = (
        select(
            e.id,
            c.id,
            c.first_name,
            c.last_name,
            e.phone,
            e.kind,
            e.method,
            e.obtained_at,
            e.reference,
            User.email,
            e.recorded_at,
            e.text,
        )
        .join(c, c.id == e.customer_id)
        .outerjoin(User, User.id == e.recorded_by_id)
    )
    return query if company is None else query.where(e.company_id == company.id)


def _ledger_row(row) -> tuple:
    """A ledger entry as ``compliance.consent.ledger_rows`` writes it (LEDGER_COLUMNS)."""
    id_, customer_id, first, last, phone, kind, method, obtained, ref, email, at, text = row
    return (
        id_,
        customer_id,
        f"{first} {last}".strip(),
        phone or "",
        ConsentKind(kind).value,
        ConsentMethod(method).value if method else "",
        obtained.isoformat(timespec="seconds") if obtained else "",
        ref or "",
        email or "",
        at.isoformat(timespec="seconds"),
        text or "",
    )


def _consent_shape(company):
    """How a ledger entry is shown: its event and method as ``Coded``, when consent was
    obtained as the customer's page says it (``consent.obtained_day``: the day typed for a
    consent given, the moment for a withdrawal), the times read in the viewer's zone (the
    CSV keeps ``_ledger_row``)."""

    def shape(row) -> tuple:
        shown = list(_ledger_row(row))
        shown[4] = cells.consent_kind(shown[4])
        shown[5] = cells.consent_method(shown[5])
        obtained = row[7]
        if obtained is not None and shown[4] == ConsentKind.GIVEN:
            obtained = obtained.date()  # the day typed on the form, stored at noon UTC
        shown[6] = "" if obtained is None else obtained
        shown[9] = row[10]
        return tuple(shown)

    return shape


def consent_rows(company, filtered: Mapping[str, str]) -> Iterator[tuple]:
    """Return the consent ledger (``compliance.consent.ledger_rows``: its CSV unchanged)
    with its event and method as ``Coded`` and its times read in the viewer's zone."""
    query = _ledger_query(company).order_by(ConsentEvent.id)
    return shaped(stream(query), _consent_shape(company))


def consent_page(company, filtered: Mapping[str, str], after: str | None, size: int):
    """Return the ``size`` entries after the entry ``after`` (an id), by entry, and the
    cursor of the next page (``paging``)."""
    query = _ledger_query(company)
    if (last := read_id_cursor(after)) is not None:
        query = query.where(ConsentEvent.id > last)
    query = query.order_by(ConsentEvent.id).limit(size + 1)
    return page_of(query, size, lambda row: str(row[0]), _consent_shape(company))


def consent_export(company, filtered: Mapping[str, str]) -> Iterable:
    """Return the CSV's rows of the whole ledger, as ``ledger_rows`` writes them, streamed;
    on PostgreSQL written by the database (``csv_sql``)."""
    if db.engine.dialect.name != "postgresql":
        return shaped(stream(_ledger_query(company).order_by(ConsentEvent.id)), _ledger_row)
    e, c = ConsentEvent, Customer
    query = (
        select(
            number_cell(e.id),
            number_cell(c.id),
            text_cell(func.trim(c.first_name + " " + c.last_name)),
            text_cell(e.phone),
            text_cell(e.kind),
            text_cell(e.method),
            text_cell(iso_time(e.obtained_at, "UTC")),
            text_cell(e.reference),
            text_cell(User.email),
            text_cell(iso_time(e.recorded_at, "UTC")),
            text_cell(e.text),
        )
        .join(c, c.id == e.customer_id)
        .outerjoin(User, User.id == e.recorded_by_id)
        .order_by(e.id)
    )
    if company is not None:
        query = query.where(e.company_id == company.id)
    return CsvText(copy_csv(query))


def consent_register() -> Report:
    """Describe the consent ledger report."""
    return Report(
        name="sms_consent_register",
        title=_l("SMS consent register"),
        columns=CONSENT_COLUMNS,
        rows=consent_rows,
        description=_l("Every consent given or withdrawn, and every disclaimer sent."),
        page=consent_page,
        export=consent_export,
    )
