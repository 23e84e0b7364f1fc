"""Reading the report summaries (``models.report_tables``): the day rows plus the deltas
not folded yet, for the viewer's scope and dates (issue 14, point 2).

A shop (or the operator who picked one) reads the shop's own days (view 1), in its zone;
the operator with every shop reads the platform's UTC days (view 2). The figures are
the same as counting the messages (``models.report_sql`` says what each adds), a few
hundred rows a year whatever the number of messages.

``rebuild_summaries`` counts them again from the messages (``crmhost sms seed-bench``
calls it after its bulk inserts; the migration did it first).
"""

from __future__ import annotations

from sqlalchemy import String, cast, func, literal_column, select, union_all

from host.api import db
from plugins.sms_module.models.report_rebuild import compact, rebuild_summaries, repair_shop
from plugins.sms_module.models.report_tables import (
    COUNTS,
    EVERY_SHOP,
    PLATFORM_VIEW,
    SHOP_VIEW,
    SmsReportDay,
    SmsReportDelta,
)
from plugins.sms_module.reports.filters import Criteria

__all__ = ["compact_deltas", "figures", "period_of", "rebuild_summaries", "scope_of"]
_COLUMNS = (
    "company_id",
    "day",
    "queue",
    "status",
    "code",
    "currency",
    "bucket",
    "messages",
    "charged",
    "attempts",
    "segments",
    "cost",
    "low",
    "high",
    "last_at",
    "reason",
)


def compact_deltas() -> None:
    """Periodic task (``sms-report-compact``): fold the deltas the triggers appended into
    the day rows (``report_rebuild.compact``), so that a report reads a few rows a day."""
    compact(db.session)


def scope_of(company) -> tuple[int, int | None]:
    """Return the view and the shop a viewer reads: (1, the shop) for a shop, its days
    counted again first if its zone changed (``repair_shop``); (2, None) for the operator
    with every shop."""
    if company is None:
        return PLATFORM_VIEW, None
    repair_shop(db.session, company)
    return SHOP_VIEW, company.id


def figures(company, criteria: Criteria, *, counts: bool = True, per_shop: bool = False):
    """Return the summary rows (day rows and deltas, as one subquery of ``_COLUMNS``) a
    viewer reads, within the filtered days and queue: the message counts (``counts``) or
    the deliveries timed. ``per_shop``: the operator's per-shop charges (status "")."""
    view, company_id = scope_of(company)

    def part(table):
        query = select(*(getattr(table, c) for c in _COLUMNS)).where(table.view == view)
        if company_id is not None:
            query = query.where(table.company_id == company_id)
        elif per_shop:
            query = query.where(table.company_id != EVERY_SHOP, table.status == "")
        else:
            query = query.where(table.company_id == EVERY_SHOP)
        query = query.where(table.bucket == COUNTS if counts else table.bucket > COUNTS)
        if not per_shop:
            query = query.where(table.status != "")
        if criteria.first_day is not None:
            query = query.where(table.day >= criteria.first_day)
        if criteria.last_day is not None:
            query = query.where(table.day <= criteria.last_day)
        if queue := criteria.choice.get("queue"):
            query = query.where(table.queue == queue)
        return query

    return union_all(part(SmsReportDay), part(SmsReportDelta)).subquery()


def period_of(day, period: str):
    """The SQL of a summary day's period: the day itself, or its month as text (YYYY-MM);
    ``str()`` of either is the period's text."""
    if period != "month":
        return day
    if db.engine.dialect.name == "postgresql":
        return func.to_char(day, "YYYY-MM")
    return func.substr(cast(day, String), 1, 7)


def total(column):
    """``sum(column)``, 0 when there is no row."""
    return func.coalesce(func.sum(column), literal_column("0"))
