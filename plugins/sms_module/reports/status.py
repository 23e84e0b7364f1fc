"""The status report: outbound messages counted by day created, queue and status, charted.

A message a rule refused before the carrier had it (no consent, opted out, module off…)
is counted as "refused", apart from the carrier's failures (``statuses.is_refusal``)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, func, select, type_coerce

from host.api import Chart, Report, db, utcnow
from plugins.sms_module.models import Direction, Queue, SmsMessage
from plugins.sms_module.models.statuses import REFUSED, Status, no_report_cutoff
from plugins.sms_module.reports import cells
from plugins.sms_module.reports.cells import Column, Period
from plugins.sms_module.reports.filters import (
    check_filters,
    choices,
    filters,
    read_filters,
    zone_name,
)
from plugins.sms_module.reports.sql import NO_REPORT, in_window, period_sql, scoped
from plugins.sms_module.reports.summary import figures, period_of, total

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
    (``Period`` day, ``Coded`` queue, ``Coded`` status, int), from the summary rows
    (``reports.summary``) and the Sent messages gone without a delivery report."""
    criteria = read_filters(filtered, zone_name(company))
    rows = figures(company, criteria)
    day = period_of(rows.c.day, "day")
    counted = db.session.execute(
        select(day, rows.c.queue, rows.c.status, total(rows.c.messages))
        .group_by(day, rows.c.queue, rows.c.status)
        .having(total(rows.c.messages) != 0)
    ).all()
    counts = {(str(day), queue, status): int(n) for day, queue, status, n in counted}
    for (day, queue), n in _stale(company, criteria).items():
        counts[(day, queue, Status.SENT.value)] = counts.get((day, queue, Status.SENT.value), 0) - n
        counts[(day, queue, NO_REPORT)] = n
    return sorted(
        (
            (Period(day), cells.queue(queue), cells.status(status), count)
            for (day, queue, status), count in counts.items()
            if count
        ),
        key=lambda r: (r[0], r[1], _status_key(r[2])),
    )


def _stale(company, criteria) -> dict[tuple[str, str], int]:
    """Count the Sent messages long without a delivery report (§6) by day created and
    queue: they are counted as Sent in the summary, and change without a write."""
    m = SmsMessage
    day = period_sql(m.created_at, criteria.zone, "day").label("day")
    query = select(day, type_coerce(m.queue, String).label("queue"), func.count()).where(
        m.status == Status.SENT,
        m.updated_at < no_report_cutoff(utcnow()),
        m.direction == Direction.OUTBOUND,
    )
    query = in_window(scoped(query, company), m.created_at, criteria)
    if queue := criteria.choice.get("queue"):
        query = query.where(m.queue == Queue(queue))
    rows = db.session.execute(query.group_by(day, m.queue)).all()
    return {(day, queue): n for day, queue, n in rows}


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
