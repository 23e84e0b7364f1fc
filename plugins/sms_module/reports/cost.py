"""The segments and cost report: what outbound messages were charged, by period, shop and
queue. Every delivery attempt is charged (PRODUCT.md §8)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import Numeric, select, type_coerce

from host.api import Company, Report, db
from plugins.sms_module.reports import cells
from plugins.sms_module.reports.cells import Column, Period
from plugins.sms_module.reports.filters import (
    check_filters,
    choices,
    filters,
    read_filters,
    zone_name,
)
from plugins.sms_module.reports.sql import money
from plugins.sms_module.reports.summary import figures, period_of, total

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


def cost_rows(company, filtered: Mapping[str, str]) -> Iterator[tuple]:
    """Sum the charged segments and the cost of outbound messages by period, shop, queue:
    rows of COST_COLUMNS (``Period``, shop name, ``Coded`` queue, ints, ``Amount``, ISO
    4217 code), from the summary rows (``reports.summary``): a shop's own days, or each
    shop's UTC days for the operator."""
    criteria = read_filters(filtered, zone_name(company))
    rows = figures(company, criteria, per_shop=company is None)
    period = period_of(rows.c.day, criteria.period)
    found = db.session.execute(
        select(
            period,
            rows.c.company_id,
            rows.c.queue,
            total(rows.c.charged),
            total(rows.c.attempts),
            total(rows.c.segments),
            type_coerce(total(rows.c.cost), Numeric(18, 5)),
            rows.c.currency,
        )
        .group_by(period, rows.c.company_id, rows.c.queue, rows.c.currency)
        .having(total(rows.c.charged) > 0)
    ).all()
    names = dict(db.session.execute(select(Company.id, Company.name)).all()) if found else {}
    found = sorted(
        ((str(period), names.get(shop) or "", *rest) for period, shop, *rest in found),
        key=lambda r: (r[0], r[1], r[2], r[7]),
    )
    return (  # made as read: a page shows the first 500 of a year of days of 20 shops
        (
            Period(period),
            shop,
            cells.queue(queue),
            int(count),
            int(attempts),
            int(segments),
            money(cost, cur),
            cur,
        )
        for period, shop, queue, count, attempts, segments, cost, cur in found
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
