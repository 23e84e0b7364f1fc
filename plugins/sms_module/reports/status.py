"""The status report: outbound messages counted by day created, queue and status, charted.

A message a rule refused before the carrier had it (no consent, opted out, module off…)
is counted as "refused", apart from the carrier's failures (``statuses.is_refusal``)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, func, select, type_coerce

from host.api import Chart, Report, db
from plugins.sms_module.models import Direction, Queue, SmsMessage
from plugins.sms_module.models.statuses import REFUSED, Status
from plugins.sms_module.reports import cells
from plugins.sms_module.reports.cells import Column, Period
from plugins.sms_module.reports.filters import (
    check_filters,
    choices,
    filters,
    read_filters,
    zone_name,
)
from plugins.sms_module.reports.sql import NO_REPORT, in_window, period_sql, scoped, status_sql

STATUS_COLUMNS = (
    Column("day", _l("Day")),
    Column("queue", _l("Queue")),
    Column("status", _l("Status")),
    Column("messages", _l("Messages")),
)
# The order statuses are listed in (a message's life), and their colours on charts.
_LIFE = [s.value for s in Status]
STATUS_ORDER = [*_LIFE[:5], NO_REPORT, *_LIFE[5:8], REFUSED, *_LIFE[8:]]
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
    REFUSED: "#997700",
    Status.CANCELED.value: "#777777",
    Status.RECEIVING.value: "#aaaa00",
    Status.RECEIVED.value: "#aa3377",
}


def _status_key(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


def status_rows(company, filtered: Mapping[str, str]) -> list[tuple]:
    """Count the outbound messages by day (of creation), queue and status: rows of
    (``Period`` day, ``Coded`` queue, ``Coded`` status, int), one aggregate query."""
    criteria = read_filters(filtered, zone_name(company))
    inner = select(
        period_sql(SmsMessage.created_at, criteria.zone, "day").label("day"),
        type_coerce(SmsMessage.queue, String).label("queue"),
        status_sql().label("status"),
    ).where(SmsMessage.direction == Direction.OUTBOUND)
    inner = in_window(scoped(inner, company), SmsMessage.created_at, criteria)
    if queue := criteria.choice.get("queue"):
        inner = inner.where(SmsMessage.queue == Queue(queue))
    sub = inner.subquery()
    rows = db.session.execute(
        select(sub.c.day, sub.c.queue, sub.c.status, func.count()).group_by(
            sub.c.day, sub.c.queue, sub.c.status
        )
    ).all()
    return sorted(
        (
            (Period(day), cells.queue(queue), cells.status(status), count)
            for day, queue, status, count in rows
        ),
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
            "time zone (UTC for the platform operator). Refused: a rule stopped the message "
            "before the carrier had it (no consent, opted out, module off…); failed: the "
            "carrier's failure."
        ),
        filters=filters("from", "to", "queue"),
        chart=Chart(
            x="day",
            series="status",
            value="messages",
            title=_l("Outbound messages by day and status"),
            colors={s: STATUS_COLORS[s] for s in STATUS_ORDER},
        ),
        check_filters=check_filters,
        filter_choices=choices("queue"),
    )
