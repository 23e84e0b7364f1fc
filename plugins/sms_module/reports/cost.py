"""The segments and cost report: what outbound messages were charged, by period, shop and
queue. Every delivery attempt is charged (PRODUCT.md §8)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import Numeric, String, func, select, type_coerce

from host.api import Company, Report, db
from plugins.sms_module.models import Direction, SmsMessage
from plugins.sms_module.reports import cells
from plugins.sms_module.reports.cells import Column, Period
from plugins.sms_module.reports.filters import (
    check_filters,
    choices,
    filters,
    read_filters,
    zone_name,
)
from plugins.sms_module.reports.sql import in_window, money, period_sql, scoped

COST_COLUMNS = (
    Column("period", _l("Period")),
    Column("shop", _l("Shop")),
    Column("queue", _l("Queue")),
    Column("messages", _l("Messages")),
    Column("attempts", _l("Attempts")),
    Column("segments_charged", _l("Segments charged")),
    Column("cost", _l("Cost")),
    Column("currency", _l("Currency")),
)


def cost_rows(company, filtered: Mapping[str, str]) -> list[tuple]:
    """Sum the charged segments and the cost of outbound messages by period, shop, queue:
    rows of COST_COLUMNS (``Period``, shop name, ``Coded`` queue, ints, ``Amount``, ISO
    4217 code), one aggregate query."""
    criteria = read_filters(filtered, zone_name(company))
    m = SmsMessage
    inner = select(
        period_sql(m.created_at, criteria.zone, criteria.period).label("period"),
        m.company_id.label("company_id"),
        type_coerce(m.queue, String).label("queue"),
        m.currency.label("currency"),
        m.attempts.label("attempts"),
        (m.segments * m.attempts).label("segments_charged"),
        (m.price * m.attempts).label("cost"),
    ).where(m.direction == Direction.OUTBOUND, m.attempts > 0)
    inner = in_window(scoped(inner, company), m.created_at, criteria).subquery()
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
            (
                Period(period),
                shop or "",
                cells.queue(queue),
                count,
                int(attempts),
                int(segments),
                money(cost, cur),
                cur,
            )
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
        filters=filters("period", "from", "to"),
        check_filters=check_filters,
        filter_choices=choices("period"),
    )
