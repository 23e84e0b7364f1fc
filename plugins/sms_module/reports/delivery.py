"""Delivery performance: how many outbound messages reached the phone and how fast, and,
on its failing side, the error codes report (the carrier's failure codes, most first).

Both read only what the carrier was handed: a message a rule refused before (no consent,
opted out, module off…; ``statuses.is_refusal``) is neither an outcome nor an error code,
and the status report counts it as refused."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, case, func, select, type_coerce
from sqlalchemy.orm import aliased

from host.api import Report, db
from plugins.sms_module.models import Direction, Queue, SmsMessage, SmsStatusChange
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.reports import cells
from plugins.sms_module.reports.cells import Coded, Column, Figure, Period
from plugins.sms_module.reports.filters import (
    check_filters,
    choices,
    filters,
    read_filters,
    zone_name,
)
from plugins.sms_module.reports.sql import in_window, local_time, period_sql, refused, scoped

OUTCOMES = (Status.DELIVERED, Status.UNDELIVERED, Status.FAILED)
NOT_DELIVERED = (Status.UNDELIVERED, Status.FAILED)
NO_CODE = "none"  # the failure code shown for failures the carrier gave no code for
DELIVERY_COLUMNS = (
    Column("period", _l("Period")),
    Column("reached_outcome", _l("Reached an outcome")),
    Column("delivered", _l("Delivered")),
    Column("undelivered", _l("Undelivered")),
    Column("failed", _l("Failed")),
    Column("delivery_rate_pct", _l("Delivery rate")),
    Column("median_seconds_to_delivery", _l("Median time to delivery")),
    Column("p90_seconds_to_delivery", _l("90th percentile time to delivery")),
)
ERROR_COLUMNS = (
    Column("failure_code", _l("Failure code")),
    Column("messages", _l("Messages")),
    Column("last_seen", _l("Last seen")),
    Column("example_reason", _l("Example reason")),
)


def percentile(ordered: Sequence[float], q: float) -> float:
    """Return the ``q`` quantile of ``ordered`` (sorted, not empty), linearly interpolated."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _seconds(value: float) -> Figure:
    return Figure(f"{value:.1f}", "seconds")


def delivery_rows(company, filtered: Mapping[str, str]) -> list[tuple]:
    """Count the carrier's outcomes and time deliveries by period created (two queries);
    refusals are left out: the rate is over the messages the carrier was handed. Rows of
    DELIVERY_COLUMNS: ``Period``, ints, the rate and times as ``Figure`` ("" when none)."""
    criteria = read_filters(filtered, zone_name(company))
    m = SmsMessage

    def narrowed(query):
        query = in_window(scoped(query, company), m.created_at, criteria)
        query = query.where(m.direction == Direction.OUTBOUND)
        if queue := criteria.choice.get("queue"):
            query = query.where(m.queue == Queue(queue))
        return query

    period = period_sql(m.created_at, criteria.zone, criteria.period).label("period")
    inner = narrowed(
        select(period, type_coerce(m.status, String).label("status")).where(
            m.status.in_(OUTCOMES), ~refused()
        )
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
                Period(label),
                total,
                int(ok),
                int(undelivered),
                int(failed),
                Figure(f"{100 * int(ok) / total:.1f}", "percent"),
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
            "Outbound messages handed to the carrier that reached an outcome (delivered, "
            "undelivered, failed), by period created; messages a rule refused before the "
            "carrier had them are not counted. Delivery rate = delivered ÷ outcomes. "
            "Time to delivery runs from "
            "the attempt handed to the carrier (Sending, else Sent) to the Delivered report; "
            "the median and 90th percentile are interpolated."
        ),
        filters=filters("period", "from", "to", "queue"),
        check_filters=check_filters,
        filter_choices=choices("period", "queue"),
    )


def error_rows(company, filtered: Mapping[str, str]) -> list[tuple]:
    """Count the undelivered and failed outbound messages by the carrier's failure code,
    most first; refusals are left out (their codes are the module's rules, not the
    carrier's). Rows of ERROR_COLUMNS: the code and the reason as ``Coded`` (their label
    in the reader's language, ``texts.reasons.failure_text``), an int, a time."""
    criteria = read_filters(filtered, zone_name(company))
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
        .where(m.direction == Direction.OUTBOUND, m.status.in_(NOT_DELIVERED), ~refused())
        .group_by(m.failure_code)
    )
    query = in_window(scoped(query, company), m.created_at, criteria)
    if queue := criteria.choice.get("queue"):
        query = query.where(m.queue == Queue(queue))
    rows = db.session.execute(query).all()
    return [
        (
            _code_cell(code),
            count,
            local_time(last, criteria.zone),
            cells.failure_reason(code, reason),
        )
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
            "when it was last seen and one of its reasons. Messages a rule refused before "
            "the carrier had them are not listed: the status report counts them."
        ),
        filters=filters("from", "to", "queue"),
        check_filters=check_filters,
        filter_choices=choices("queue"),
    )


def _code_cell(code: str | None) -> Coded | str:
    """The failure code (``NO_CODE`` when the carrier gave none), with its meaning."""
    return cells.failure_code(code) if code else Coded(NO_CODE, _("No code"))
