"""The message log: every message of the shop, newest first, a page at a time (a keyset
page: issue 14, point 2), its CSV streamed, and each message's detail page (``detail``).
A refusal (``statuses.is_refusal``) is listed and filtered as "refused"; the "failed"
filter keeps the carrier's failures."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Numeric, String, case, cast, func, select, type_coerce

from host.api import Company, CsvText, Customer, Report, db, utcnow
from plugins.sms_module.models import Queue, SmsMessage
from plugins.sms_module.models.statuses import REFUSED, Status, no_report_cutoff
from plugins.sms_module.reports import cells
from plugins.sms_module.reports.cells import Column, excerpt
from plugins.sms_module.reports.csv_sql import copy_csv, iso_time, number_cell, text_cell
from plugins.sms_module.reports.detail import message_detail
from plugins.sms_module.reports.filters import (
    check_filters,
    choices,
    filters,
    hints,
    phone_matches,
    read_filters,
    zone_name,
)
from plugins.sms_module.reports.paging import newest_first, page_of, shaped, time_cursor
from plugins.sms_module.reports.sql import (
    CENTS,
    NO_REPORT,
    in_window,
    local_time,
    money,
    refused,
    scoped,
    status_text,
    stream,
)

# The page's columns: the CSV's (LOG_COLUMNS), and the message's text, shortened, on the
# page only (issue 12 point 6; the whole text is on the message's detail page).
LOG_PAGE_COLUMNS = (
    Column("id", _l("Message")),
    Column("created_at", _l("Created")),
    Column("customer", _l("Customer")),
    Column("phone", _l("Phone")),
    Column("text", _l("Text"), page_only=True),
    Column("direction", _l("Direction")),
    Column("kind", _l("Kind")),
    Column("queue", _l("Queue")),
    Column("status", _l("Status")),
    Column("segments", _l("Segments")),
    Column("attempts", _l("Attempts")),
    Column("cost", _l("Cost")),
    Column("currency", _l("Currency")),
    Column("failure_code", _l("Failure code")),
    Column("failure_reason", _l("Failure reason")),
    Column("sender_number", _l("Sender number")),
    Column("shop", _l("Shop")),
)
LOG_COLUMNS = tuple(c for c in LOG_PAGE_COLUMNS if not c.page_only)  # the CSV's
m = SmsMessage
# What a row reads, in this order (the text only for the page).
_READ = (
    m.id,
    m.created_at,
    Customer.first_name,
    Customer.last_name,
    m.phone,
    m.direction,
    m.kind,
    m.queue,
    m.status,
    m.updated_at,
    m.segments,
    m.attempts,
    m.price,
    m.currency,
    m.failure_code,
    m.failure_reason,
    m.sender_number,
    Company.name,
)


def _query(company, criteria, *read):
    """The messages the viewer may see that the filters keep, unordered."""
    query = (
        select(*read)
        .outerjoin(Customer, Customer.id == m.customer_id)
        .outerjoin(Company, Company.id == m.company_id)
    )
    query = in_window(scoped(query, company), m.created_at, criteria)
    if status := criteria.choice.get("status"):
        query = query.where(_status_is(status))
    if queue := criteria.choice.get("queue"):
        query = query.where(m.queue == Queue(queue))
    if direction := criteria.choice.get("direction"):
        query = query.where(m.direction == direction)
    if criteria.phone:
        query = query.where(phone_matches(m.phone, criteria.phone))
    return query


def _status_is(status: str):
    """The SQL of the status filter: "refused" picks the refusals, "failed" the carrier's
    failures only, any other status its messages."""
    if status == REFUSED:
        return refused()
    if status == Status.FAILED:
        return (m.status == Status.FAILED) & ~refused()
    return m.status == Status(status)


def _page_row(zone: str, now):
    """How a row read (``_READ`` then the text) becomes LOG_PAGE_COLUMNS: the id, the time
    created in the viewer's zone, names, the text shortened (``cells.excerpt``), codes as
    ``Coded``, counts, the cost as an ``Amount``."""

    def shape(row) -> tuple:
        (id_, created, first, last, phone, direction, kind, queue, status, updated) = row[:10]
        segments, attempts, price, currency, code, reason, sender, shop, body = row[10:]
        return (
            id_,
            local_time(created, zone),
            f"{first or ''} {last or ''}".strip(),
            phone,
            excerpt(body),
            cells.direction(direction),
            cells.kind(kind),
            cells.queue(queue),
            cells.status(status_text(status, updated, now, code)),
            segments,
            attempts,
            money((price or 0) * (attempts or 0), currency),
            currency,
            cells.failure_code(code),
            cells.failure_reason(code, reason),
            sender or "",
            shop or "",
        )

    return shape


def log_rows(company, filtered: Mapping[str, str]) -> Iterator[tuple]:
    """Return every message of the shop the filters keep, newest first, as
    LOG_PAGE_COLUMNS (``_page_row``), read a few hundred at a time."""
    criteria = read_filters(filtered, zone_name(company))
    query = _query(company, criteria, *_READ, m.body).order_by(m.created_at.desc(), m.id.desc())
    return shaped(stream(query), _page_row(criteria.zone, utcnow()))


def log_page(company, filtered: Mapping[str, str], after: str | None, size: int):
    """Return the ``size`` messages that follow the cursor ``after`` (newest first, as
    ``log_rows``) and the cursor of the next page (``paging``): one indexed read."""
    criteria = read_filters(filtered, zone_name(company))
    query = _query(company, criteria, *_READ, m.body)
    query = newest_first(query, m.created_at, m.id, after, size)
    key = lambda row: time_cursor(row[1], row[0])  # noqa: E731
    return page_of(query, size, key, _page_row(criteria.zone, utcnow()))


def log_export(company, filtered: Mapping[str, str]) -> Iterable:
    """Return the CSV's rows of the whole log (LOG_COLUMNS, machine values: the codes, the
    time in ISO 8601 with its offset, the cost "0.04980"), newest first, streamed from the
    database a few hundred at a time: the file starts at once, in bounded memory. On
    PostgreSQL the database writes the lines (``csv_sql``: a million rows in seconds)."""
    criteria = read_filters(filtered, zone_name(company))
    order = (m.created_at.desc(), m.id.desc())
    if db.engine.dialect.name == "postgresql":
        query = _query(company, criteria, *_csv_cells(criteria.zone, utcnow()))
        return CsvText(copy_csv(query.order_by(*order)))
    query = _query(company, criteria, *_READ).order_by(*order)
    return _exported(stream(query), ZoneInfo(criteria.zone), utcnow())


def _csv_cells(zone: str, now) -> list:
    """SQL: a message's CSV cells, as ``_exported`` writes them."""
    status = case(
        ((m.status == Status.SENT) & (m.updated_at < no_report_cutoff(now)), NO_REPORT),
        (refused(), REFUSED),
        else_=type_coerce(m.status, String),
    )
    name = func.trim(
        func.coalesce(Customer.first_name, "") + " " + func.coalesce(Customer.last_name, "")
    )
    reason = case(
        (m.failure_code.is_not(None) | m.failure_reason.is_not(None), m.failure_reason),
        else_="",
    )
    cost = cast(func.coalesce(m.price, 0) * func.coalesce(m.attempts, 0), Numeric(18, 5))
    return [
        number_cell(m.id),
        text_cell(iso_time(m.created_at, zone)),
        text_cell(name),
        text_cell(m.phone),
        text_cell(m.direction),
        text_cell(m.kind),
        text_cell(m.queue),
        text_cell(status),
        number_cell(m.segments),
        number_cell(m.attempts),
        number_cell(cost),
        text_cell(m.currency),
        text_cell(m.failure_code),
        text_cell(reason),
        text_cell(m.sender_number),
        text_cell(Company.name),
    ]


def _exported(rows, zone: ZoneInfo, now) -> Iterator[tuple]:
    for row in rows:
        (id_, created, first, last, phone, direction, kind, queue, status, updated) = row[:10]
        segments, attempts, price, currency, code, reason, sender, shop = row[10:]
        yield (
            id_,
            created.astimezone(zone).isoformat(timespec="seconds"),
            f"{first or ''} {last or ''}".strip(),
            phone,
            direction,
            kind,
            queue,
            status_text(status, updated, now, code),
            segments,
            attempts,
            (Decimal(price or 0) * (attempts or 0)).quantize(CENTS),
            currency,
            code or "",
            reason or "" if code or reason else "",
            sender or "",
            shop or "",
        )


def message_log() -> Report:
    """Describe the message log, with each message's detail and status history."""
    return Report(
        name="sms_message_log",
        title=_l("SMS message log"),
        columns=LOG_PAGE_COLUMNS,
        rows=log_rows,
        description=_l(
            "Every message sent or received, newest first; open one for its status history. "
            "Cost is the price of one attempt times the attempts: every attempt is charged."
        ),
        filters=filters("status", "queue", "direction", "phone", "from", "to"),
        filter_hints=hints("phone"),
        detail=message_detail,
        check_filters=check_filters,
        filter_choices=choices("status", "queue", "direction"),
        page=log_page,
        export=log_export,
    )
