"""The SMS module's report definitions, collected by the reports plugin (§11).

Each report reads with a fixed number of queries (aggregates in SQL, or one streamed
query), never one query per row, and only the rows of the viewer's shop: ``company`` is
the shop, ``None`` for the platform operator (every shop).

Days and months are those of the shop's time zone for a shop's users, and UTC for the
operator; the ``from`` and ``to`` filters (YYYY-MM-DD, both included) use the same zone.
A filter value the report cannot use is ignored, and the page says so (``check_filters``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Numeric, String, case, func, or_, select, type_coerce
from sqlalchemy.orm import aliased

from host.extension_points import Chart, Report, ReportDetail
from host.extensions import db
from host.models import Company, Customer, utcnow
from plugins.sms_module.compliance.consent import LEDGER_COLUMNS, ledger_rows
from plugins.sms_module.models import (
    OptOutAction,
    OptOutEvent,
    Queue,
    SmsMessage,
    SmsStatusChange,
)
from plugins.sms_module.models.statuses import Status, lacks_report, no_report_cutoff

# How a Sent message without a delivery report for NO_REPORT_AFTER_HOURS is reported (§6).
NO_REPORT = "sent (no delivery report)"
OUTCOMES = (Status.DELIVERED, Status.UNDELIVERED, Status.FAILED)
NOT_DELIVERED = (Status.UNDELIVERED, Status.FAILED)
NO_CODE = "none"  # the failure code shown for failures the carrier gave no code for
STREAM_ROWS = 500  # rows fetched at a time by the long reports
CENTS = Decimal("0.00001")  # the precision of stored prices

# The values each choice filter accepts; any other value is ignored, with a note.
CHOICES: dict[str, tuple[str, ...]] = {
    "status": tuple(s.value for s in Status),
    "queue": tuple(q.value for q in Queue),
    "direction": ("outbound", "inbound"),
    "period": ("day", "month"),
    "action": tuple(a.value for a in OptOutAction),
}
DATE_HINTS = {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}
# The order statuses are listed in (a message's life), and their colours on charts.
STATUS_ORDER = [s.value for s in Status][:5] + [NO_REPORT] + [s.value for s in Status][5:]
STATUS_COLORS = {
    Status.ACCEPTED.value: "#bbbbbb",
    Status.SCHEDULED.value: "#99ddff",
    Status.QUEUED.value: "#44bb99",
    Status.SENDING.value: "#eedd88",
    Status.SENT.value: "#77aadd",
    NO_REPORT: "#332288",
    Status.DELIVERED.value: "#228833",
    Status.UNDELIVERED.value: "#ee8866",
    Status.FAILED.value: "#cc3311",
    Status.CANCELED.value: "#777777",
    Status.RECEIVING.value: "#aaaa00",
    Status.RECEIVED.value: "#aa3377",
}


# --- Filters ---------------------------------------------------------------------------


@dataclass
class Criteria:
    """The filter values a report uses, read from what was typed."""

    zone: str = "UTC"
    start: datetime | None = None  # UTC, included
    end: datetime | None = None  # UTC, excluded
    period: str = "month"
    choice: dict[str, str] = field(default_factory=dict)
    phone: str = ""
    notes: list[str] = field(default_factory=list)


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
YEARS = (1900, 2999)  # dates the filters take (beyond, time zone arithmetic overflows)


def _day(name: str, value: str, notes: list[str]) -> date | None:
    value = value.strip()
    if not value:
        return None
    if DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if YEARS[0] <= day.year <= YEARS[1]:
                return day
            notes.append(
                _(
                    "The “%(name)s” date “%(value)s” is out of range: it is ignored.",
                    name=name,
                    value=value,
                )
            )
            return None
    notes.append(
        _(
            "The “%(name)s” date “%(value)s” is not a date written YYYY-MM-DD: it is ignored.",
            name=name,
            value=value,
        )
    )
    return None


def _midnight(day: date, zone: str) -> datetime:
    """Return when ``day`` begins in ``zone``, in UTC."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def read_filters(filters: Mapping[str, str], zone: str = "UTC") -> Criteria:
    """Read the typed ``filters``; values that cannot be used are dropped with a note."""
    criteria = Criteria(zone=zone)
    notes = criteria.notes
    first = _day("from", filters.get("from", ""), notes) if "from" in filters else None
    last = _day("to", filters.get("to", ""), notes) if "to" in filters else None
    if first and last and first > last:
        notes.append(_("The “from” date is after the “to” date: no row matches."))
    if first:
        criteria.start = _midnight(first, zone)
    if last:
        criteria.end = _midnight(last + timedelta(days=1), zone)
    for name, accepted in CHOICES.items():
        value = (filters.get(name) or "").strip().lower()
        if not value:
            continue
        if value in accepted:
            criteria.choice[name] = value
        else:
            notes.append(
                _(
                    "The “%(name)s” filter “%(value)s” is not one of: %(accepted)s. It is ignored.",
                    name=name,
                    value=filters.get(name, "").strip(),
                    accepted=", ".join(accepted),
                )
            )
    criteria.period = criteria.choice.pop("period", "month")
    if phone := (filters.get("phone") or "").strip():
        digits = re.sub(r"\D", "", phone)
        if digits:
            criteria.phone = ("+" if phone.startswith("+") else "") + digits
        else:
            notes.append(
                _("The phone filter “%(value)s” has no digit: it is ignored.", value=phone)
            )
    return criteria


def check_filters(filters: Mapping[str, str]) -> list[str]:
    """Return the notes about the filter values a report ignores."""
    return read_filters(filters).notes


def _zone(company) -> str:
    """Return the time zone days are counted in: the shop's, UTC for the operator."""
    return (company.time_zone if company is not None else None) or "UTC"


# --- SQL helpers -------------------------------------------------------------------------

PERIOD_FORMATS = {"day": ("%Y-%m-%d", "YYYY-MM-DD"), "month": ("%Y-%m", "YYYY-MM")}


def _local_period(value: str | None, zone: str, fmt: str) -> str | None:
    """SQLite's ``sms_local_period``: the day or month of a stored UTC time in ``zone``."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # stored times are UTC
    return moment.astimezone(ZoneInfo(zone)).strftime(fmt)


def _period(column, zone: str, period: str):
    """Return the SQL of ``column``'s day or month in ``zone``, as text (2026-01-05, 2026-01).

    PostgreSQL converts time zones itself; SQLite cannot, so it gets a Python function on
    the session's connection (still one query, grouped by the database).
    """
    python_format, postgres_format = PERIOD_FORMATS[period]
    if db.engine.dialect.name == "sqlite":
        connection = db.session.connection().connection.driver_connection
        connection.create_function("sms_local_period", 3, _local_period, deterministic=True)
        return func.sms_local_period(column, zone, python_format)
    return func.to_char(func.timezone(zone, column), postgres_format)


def _scoped(query, company, column=SmsMessage.company_id):
    return query if company is None else query.where(column == company.id)


def _in_window(query, column, criteria: Criteria):
    if criteria.start is not None:
        query = query.where(column >= criteria.start)
    if criteria.end is not None:
        query = query.where(column < criteria.end)
    return query


def _stale():
    """Tell, in SQL, whether a message is Sent with no delivery report for too long."""
    limit = no_report_cutoff(utcnow())
    return (SmsMessage.status == Status.SENT) & (SmsMessage.updated_at < limit)


def _status_sql():
    """The status as reported: "sent (no delivery report)" for a Sent message too long."""
    return case((_stale(), NO_REPORT), else_=type_coerce(SmsMessage.status, String))


def _status_text(status: str, updated_at: datetime | None, now: datetime) -> str:
    return NO_REPORT if lacks_report(status, updated_at, now) else str(status)


def _when(moment: datetime | None, zone: str) -> str:
    """Write a time in the viewer's zone, with its offset (2026-01-05T09:30:00-05:00)."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def _money(value) -> str:
    return "" if value is None else str(Decimal(value).quantize(CENTS))


def _stream(query) -> Iterator:
    """Run ``query`` fetching rows a few hundred at a time, closing it when abandoned."""
    result = db.session.execute(query.execution_options(yield_per=STREAM_ROWS))
    try:
        yield from result
    finally:
        result.close()


def _status_key(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


# --- Status report -----------------------------------------------------------------------

STATUS_COLUMNS = ("day", "queue", "status", "messages")


def status_rows(company, filters: Mapping[str, str]) -> list[tuple]:
    """Count the outbound messages by day (of creation), queue and status."""
    criteria = read_filters(filters, _zone(company))
    inner = select(
        _period(SmsMessage.created_at, criteria.zone, "day").label("day"),
        type_coerce(SmsMessage.queue, String).label("queue"),
        _status_sql().label("status"),
    ).where(SmsMessage.direction == "outbound")
    inner = _in_window(_scoped(inner, company), SmsMessage.created_at, criteria)
    if queue := criteria.choice.get("queue"):
        inner = inner.where(SmsMessage.queue == Queue(queue))
    sub = inner.subquery()
    rows = db.session.execute(
        select(sub.c.day, sub.c.queue, sub.c.status, func.count()).group_by(
            sub.c.day, sub.c.queue, sub.c.status
        )
    ).all()
    return sorted(
        ((day, queue, status, count) for day, queue, status, count in rows),
        key=lambda r: (r[0], r[1], _status_key(r[2])),
    )


def status_report() -> Report:
    """Describe the status report: counts by day, queue and status, with a chart."""
    return Report(
        name="sms_status_report",
        title=_l("SMS status report"),
        columns=STATUS_COLUMNS,
        rows=status_rows,
        description=_l(
            "Outbound messages by day created, queue and status. Days are in the shop's "
            "time zone (UTC for the platform operator)."
        ),
        filters=("from", "to", "queue"),
        chart=Chart(
            x="day",
            series="status",
            value="messages",
            title=_l("Outbound messages by day and status"),
            colors={s: STATUS_COLORS[s] for s in STATUS_ORDER},
        ),
        check_filters=check_filters,
        filter_choices={"queue": CHOICES["queue"]},
        filter_hints=DATE_HINTS,
    )


# --- Message log -------------------------------------------------------------------------

LOG_COLUMNS = (
    "id",
    "created_at",
    "customer",
    "phone",
    "direction",
    "kind",
    "queue",
    "status",
    "segments",
    "attempts",
    "cost",
    "currency",
    "failure_code",
    "failure_reason",
    "sender_number",
    "shop",
)


def log_rows(company, filters: Mapping[str, str]) -> Iterator[tuple]:
    """Yield every message of the shop, newest first, as LOG_COLUMNS."""
    criteria = read_filters(filters, _zone(company))
    m = SmsMessage
    query = (
        select(
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
        .outerjoin(Customer, Customer.id == m.customer_id)
        .outerjoin(Company, Company.id == m.company_id)
        .order_by(m.created_at.desc(), m.id.desc())
    )
    query = _in_window(_scoped(query, company), m.created_at, criteria)
    if status := criteria.choice.get("status"):
        query = query.where(m.status == Status(status))
    if queue := criteria.choice.get("queue"):
        query = query.where(m.queue == Queue(queue))
    if direction := criteria.choice.get("direction"):
        query = query.where(m.direction == direction)
    if criteria.phone:
        query = query.where(m.phone.contains(criteria.phone, autoescape=True))
    now = utcnow()
    for row in _stream(query):
        (id_, created, first, last, phone, direction, kind, queue, status, updated) = row[:10]
        segments, attempts, price, currency, code, reason, sender, shop = row[10:]
        yield (
            id_,
            _when(created, criteria.zone),
            f"{first or ''} {last or ''}".strip(),
            phone,
            direction,
            kind,
            str(queue),
            _status_text(status, updated, now),
            segments,
            attempts,
            _money((price or 0) * (attempts or 0)),
            currency,
            code or "",
            reason or "",
            sender or "",
            shop or "",
        )


def message_detail(company, message_id: int) -> ReportDetail | None:
    """Return a message's fields and its whole status history; ``None`` if not the shop's."""
    from plugins.sms_module.texts.preview import LABELS, status_label

    query = (
        select(SmsMessage, Customer, Company)
        .outerjoin(Customer, Customer.id == SmsMessage.customer_id)
        .outerjoin(Company, Company.id == SmsMessage.company_id)
        .where(SmsMessage.id == message_id)
    )
    found = db.session.execute(_scoped(query, company)).first()
    if found is None:
        return None
    message, customer, shop = found
    zone = _zone(company)
    history = db.session.execute(
        select(
            SmsStatusChange.at,
            SmsStatusChange.status,
            SmsStatusChange.source,
            SmsStatusChange.detail,
        )
        .where(SmsStatusChange.message_id == message.id)
        .order_by(SmsStatusChange.at, SmsStatusChange.id)
    ).all()
    fields = [
        (_("Message"), message.id),
        (_("Shop"), shop.name if shop else ""),
        (_("Created"), _when(message.created_at, zone)),
        (_("Customer"), customer.full_name if customer else ""),
        (_("Phone"), message.phone),
        (_("Direction"), message.direction),
        (_("Kind"), message.kind),
        (_("Queue"), str(message.queue)),
        (_("Status"), status_label(message)),
        (_("Send at"), _when(message.send_at, zone)),
        (_("Sender number"), message.sender_number or ""),
        (_("Provider reference"), message.provider_sid or ""),
        (_("Segments"), message.segments),
        (_("Encoding"), message.encoding),
        (_("Price per attempt"), _money(message.price)),
        (_("Attempts"), message.attempts),
        (_("Cost"), _money(message.cost)),
        (_("Currency"), message.currency),
        (_("Failure code"), message.failure_code or ""),
        (_("Failure reason"), message.failure_reason or ""),
        (_("Text"), message.body),
    ]
    return ReportDetail(
        title=_("SMS message %(id)s", id=message.id),
        fields=fields,
        table_title=_("Status history"),
        table_columns=(_("Time"), _("Status"), _("Source"), _("Detail")),
        table_rows=[
            (_when(at, zone), str(LABELS.get(status, status)), source, detail or "")
            for at, status, source, detail in history
        ],
    )


def message_log() -> Report:
    """Describe the message log, with each message's detail and status history."""
    return Report(
        name="sms_message_log",
        title=_l("SMS message log"),
        columns=LOG_COLUMNS,
        rows=log_rows,
        description=_l(
            "Every message sent or received, newest first; open one for its status history. "
            "Cost is the price of one attempt times the attempts: every attempt is charged."
        ),
        filters=("status", "queue", "direction", "phone", "from", "to"),
        detail=message_detail,
        check_filters=check_filters,
        filter_choices={n: CHOICES[n] for n in ("status", "queue", "direction")},
        filter_hints=DATE_HINTS,
    )


# --- Segments and cost -------------------------------------------------------------------

COST_COLUMNS = (
    "period",
    "shop",
    "queue",
    "messages",
    "attempts",
    "segments_charged",
    "cost",
    "currency",
)


def cost_rows(company, filters: Mapping[str, str]) -> list[tuple]:
    """Sum the charged segments and the cost of outbound messages by period, shop, queue."""
    criteria = read_filters(filters, _zone(company))
    m = SmsMessage
    inner = select(
        _period(m.created_at, criteria.zone, criteria.period).label("period"),
        m.company_id.label("company_id"),
        type_coerce(m.queue, String).label("queue"),
        m.currency.label("currency"),
        m.attempts.label("attempts"),
        (m.segments * m.attempts).label("segments_charged"),
        (m.price * m.attempts).label("cost"),
    ).where(m.direction == "outbound", m.attempts > 0)
    inner = _in_window(_scoped(inner, company), m.created_at, criteria).subquery()
    rows = db.session.execute(
        select(
            inner.c.period,
            Company.name,
            inner.c.queue,
            func.count(),
            func.sum(inner.c.attempts),
            func.sum(inner.c.segments_charged),
            type_coerce(func.sum(inner.c.cost), Numeric(18, 5)),
            inner.c.currency,
        )
        .outerjoin(Company, Company.id == inner.c.company_id)
        .group_by(inner.c.period, inner.c.company_id, Company.name, inner.c.queue)
        .group_by(inner.c.currency)
    ).all()
    return sorted(
        (
            (period, shop or "", queue, count, int(attempts), int(segments), _money(cost), cur)
            for period, shop, queue, count, attempts, segments, cost, cur in rows
        ),
        key=lambda r: (r[0], r[1], r[2], r[7]),
    )


def cost_report() -> Report:
    """Describe the segments and cost report."""
    return Report(
        name="sms_cost",
        title=_l("SMS segments and cost"),
        columns=COST_COLUMNS,
        rows=cost_rows,
        description=_l(
            "Outbound messages handed to the carrier, by period created, shop and queue. "
            "Every delivery attempt is charged: segments charged = segments × attempts, "
            "cost = price × attempts."
        ),
        filters=("period", "from", "to"),
        check_filters=check_filters,
        filter_choices={"period": CHOICES["period"]},
        filter_hints=DATE_HINTS,
    )


# --- Delivery performance ----------------------------------------------------------------

DELIVERY_COLUMNS = (
    "period",
    "reached_outcome",
    "delivered",
    "undelivered",
    "failed",
    "delivery_rate_pct",
    "median_seconds_to_delivery",
    "p90_seconds_to_delivery",
)


def percentile(ordered: Sequence[float], q: float) -> float:
    """Return the ``q`` quantile of ``ordered`` (sorted, not empty), linearly interpolated."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _seconds(value: float) -> str:
    return f"{value:.1f}"


def delivery_rows(company, filters: Mapping[str, str]) -> list[tuple]:
    """Count outcomes and time deliveries by period created (two queries)."""
    criteria = read_filters(filters, _zone(company))
    m = SmsMessage

    def narrowed(query):
        query = _in_window(_scoped(query, company), m.created_at, criteria)
        query = query.where(m.direction == "outbound")
        if queue := criteria.choice.get("queue"):
            query = query.where(m.queue == Queue(queue))
        return query

    period = _period(m.created_at, criteria.zone, criteria.period).label("period")
    inner = narrowed(
        select(period, type_coerce(m.status, String).label("status")).where(m.status.in_(OUTCOMES))
    ).subquery()
    counts = db.session.execute(
        select(
            inner.c.period,
            func.count(),
            *(func.sum(case((inner.c.status == s.value, 1), else_=0)) for s in OUTCOMES),
        ).group_by(inner.c.period)
    ).all()
    # Time to delivery: from the attempt that reached the phone (its Sending step, or the
    # Sent step when no Sending was recorded) to the first Delivered step.
    step = aliased(SmsStatusChange)
    delivered = (
        select(step.message_id, func.min(step.at).label("at"))
        .where(step.status == Status.DELIVERED)
        .group_by(step.message_id)
        .subquery()
    )
    began = []
    for status, pick in ((Status.SENDING, func.max), (Status.SENT, func.min)):
        earlier = aliased(SmsStatusChange)
        began.append(
            select(pick(earlier.at))
            .where(
                earlier.message_id == delivered.c.message_id,
                earlier.status == status,
                earlier.at <= delivered.c.at,
            )
            .scalar_subquery()
        )
    timed = db.session.execute(
        narrowed(
            select(period, delivered.c.at, func.coalesce(*began))
            .join(delivered, delivered.c.message_id == m.id)
            .where(m.status == Status.DELIVERED)
        )
    ).all()
    durations: dict[str, list[float]] = {}
    for label, done, start in timed:
        if start is not None:
            durations.setdefault(label, []).append(max(0.0, (done - start).total_seconds()))
    rows = []
    for label, total, ok, undelivered, failed in sorted(counts):
        ordered = sorted(durations.get(label, []))
        rows.append(
            (
                label,
                total,
                int(ok),
                int(undelivered),
                int(failed),
                f"{100 * int(ok) / total:.1f}",
                _seconds(percentile(ordered, 0.5)) if ordered else "",
                _seconds(percentile(ordered, 0.9)) if ordered else "",
            )
        )
    return rows


def delivery_report() -> Report:
    """Describe the delivery performance report."""
    return Report(
        name="sms_delivery",
        title=_l("SMS delivery performance"),
        columns=DELIVERY_COLUMNS,
        rows=delivery_rows,
        description=_l(
            "Outbound messages that reached an outcome (delivered, undelivered, failed), by "
            "period created. Delivery rate = delivered ÷ outcomes. Time to delivery runs from "
            "the attempt handed to the carrier (Sending, else Sent) to the Delivered report; "
            "the median and 90th percentile are interpolated."
        ),
        filters=("period", "from", "to", "queue"),
        check_filters=check_filters,
        filter_choices={n: CHOICES[n] for n in ("period", "queue")},
        filter_hints=DATE_HINTS,
    )


ERROR_COLUMNS = ("failure_code", "messages", "last_seen", "example_reason")


def error_rows(company, filters: Mapping[str, str]) -> list[tuple]:
    """Count the undelivered and failed outbound messages by failure code, most first."""
    criteria = read_filters(filters, _zone(company))
    m = SmsMessage
    step = aliased(SmsStatusChange)
    query = (
        select(
            m.failure_code,
            func.count(func.distinct(m.id)),
            func.max(func.coalesce(step.at, m.updated_at)),
            func.max(m.failure_reason),
        )
        .outerjoin(step, (step.message_id == m.id) & step.status.in_(NOT_DELIVERED))
        .where(m.direction == "outbound", m.status.in_(NOT_DELIVERED))
        .group_by(m.failure_code)
    )
    query = _in_window(_scoped(query, company), m.created_at, criteria)
    if queue := criteria.choice.get("queue"):
        query = query.where(m.queue == Queue(queue))
    rows = db.session.execute(query).all()
    return [
        (code or NO_CODE, count, _when(last, criteria.zone), reason or "")
        for code, count, last, reason in sorted(
            rows, key=lambda r: (-r[1], r[0] is None, r[0] or "")
        )
    ]


def error_codes_report() -> Report:
    """Describe the error codes report (the failing side of delivery performance)."""
    return Report(
        name="sms_error_codes",
        title=_l("SMS error codes"),
        columns=ERROR_COLUMNS,
        rows=error_rows,
        description=_l(
            "Undelivered and failed outbound messages by the carrier's failure code, with "
            "when it was last seen and one of its reasons."
        ),
        filters=("from", "to", "queue"),
        check_filters=check_filters,
        filter_choices={"queue": CHOICES["queue"]},
        filter_hints=DATE_HINTS,
    )


# --- Consent and opt-out registers -------------------------------------------------------

OPT_OUT_COLUMNS = ("at", "phone", "action", "source", "raw_message", "shop")


def opt_out_rows(company, filters: Mapping[str, str]) -> Iterator[tuple]:
    """Yield the opt-out and opt-in events, newest first.

    A shop sees the events recorded in its name and those of its customers' phones (the
    list is platform-wide), without the name of another shop; the operator sees them all.
    """
    criteria = read_filters(filters, _zone(company))
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
    query = _in_window(query, e.at, criteria)
    if action := criteria.choice.get("action"):
        query = query.where(e.action == OptOutAction(action))
    if criteria.phone:
        query = query.where(e.phone.contains(criteria.phone, autoescape=True))
    for at, phone, action, source, raw, company_id, shop in _stream(query):
        if company_id is None:
            where = _("platform")
        elif company is None or company_id == company.id:
            where = shop or ""
        else:
            where = _("another shop")
        yield (_when(at, criteria.zone), phone, str(action), source, raw or "", where)


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
        filters=("phone", "action", "from", "to"),
        check_filters=check_filters,
        filter_choices={"action": CHOICES["action"]},
        filter_hints=DATE_HINTS,
    )


def consent_register() -> Report:
    """Describe the consent ledger report."""
    return Report(
        name="sms_consent_register",
        title="SMS consent register",
        columns=LEDGER_COLUMNS,
        rows=lambda company, filters: ledger_rows(company.id if company else None),
        description="Every consent given or withdrawn, and every disclaimer sent.",
    )


def all_reports() -> list[Report]:
    """Return every report of the SMS module."""
    return [
        consent_register(),
        opt_out_register(),
        status_report(),
        message_log(),
        cost_report(),
        delivery_report(),
        error_codes_report(),
    ]
