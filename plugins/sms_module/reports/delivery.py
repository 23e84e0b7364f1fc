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
from sqlalchemy import func, select

from host.api import Report, db
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
from plugins.sms_module.reports.sql import local_time
from plugins.sms_module.reports.summary import figures, period_of, total

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
    """Count the carrier's outcomes and time deliveries by period created, from the summary
    rows (``reports.summary``); refusals are left out: the rate is over the messages the
    carrier was handed. Rows of DELIVERY_COLUMNS: ``Period``, ints, the rate and times as
    ``Figure`` ("" when none)."""
    criteria = read_filters(filtered, zone_name(company))
    rows = figures(company, criteria)
    period = period_of(rows.c.day, criteria.period)
    counts: dict[str, dict[str, int]] = {}
    for label, status, n in db.session.execute(
        select(period, rows.c.status, total(rows.c.messages))
        .where(rows.c.status.in_([s.value for s in OUTCOMES]))
        .group_by(period, rows.c.status)
    ):
        counts.setdefault(str(label), {})[status] = int(n)
    # Time to delivery: from the attempt that reached the phone (its Sending step, or the
    # Sent step when no Sending was recorded) to the first Delivered step, in buckets.
    timed = figures(company, criteria, counts=False)
    period = period_of(timed.c.day, criteria.period)
    buckets: dict[str, list[tuple[int, float, float]]] = {}
    for label, _bucket, n, low, high in db.session.execute(
        select(
            period,
            timed.c.bucket,
            total(timed.c.messages),
            func.min(timed.c.low),
            func.max(timed.c.high),
        )
        .group_by(period, timed.c.bucket)
        .order_by(period, timed.c.bucket)
    ):
        if n > 0:
            buckets.setdefault(str(label), []).append((int(n), float(low), float(high)))
    result = []
    for label in sorted(counts):
        by_status = counts[label]
        ok, undelivered, failed = (by_status.get(s.value, 0) for s in OUTCOMES)
        total_ = ok + undelivered + failed
        if total_ <= 0:
            continue
        timing = buckets.get(label, [])
        result.append(
            (
                Period(label),
                total_,
                ok,
                undelivered,
                failed,
                Figure(f"{100 * ok / total_:.1f}", "percent"),
                _seconds(bucket_percentile(timing, 0.5)) if timing else "",
                _seconds(bucket_percentile(timing, 0.9)) if timing else "",
            )
        )
    return result


def bucket_percentile(buckets: Sequence[tuple[int, float, float]], q: float) -> float:
    """Return the ``q`` quantile of the times counted in ``buckets`` ((count, lowest,
    highest), in order), linearly interpolated as ``percentile`` does; a bucket's times are
    taken evenly spread between its lowest and highest (exact when it holds one or two)."""
    count = sum(n for n, _low, _high in buckets)
    position = q * (count - 1)
    low = math.floor(position)
    high = min(low + 1, count - 1)
    first, second = _nth(buckets, low), _nth(buckets, high)
    return first + (second - first) * (position - low)


def _nth(buckets: Sequence[tuple[int, float, float]], rank: int) -> float:
    """The ``rank``-th smallest time (from 0) of ``buckets``."""
    for n, low, high in buckets:
        if rank < n:
            return low if n == 1 else low + (high - low) * rank / (n - 1)
        rank -= n
    return buckets[-1][2]


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
    most first, from the summary rows (``reports.summary``); refusals are left out (their
    codes are the module's rules, not the carrier's). Rows of ERROR_COLUMNS: the code and
    the reason as ``Coded`` (their label in the reader's language,
    ``texts.reasons.failure_text``), an int, a time."""
    criteria = read_filters(filtered, zone_name(company))
    rows = figures(company, criteria)
    found = db.session.execute(
        select(
            rows.c.code,
            total(rows.c.messages),
            func.max(rows.c.last_at),
            func.max(rows.c.reason),
        )
        .where(rows.c.status.in_([s.value for s in NOT_DELIVERED]))
        .group_by(rows.c.code)
        .having(total(rows.c.messages) > 0)
    ).all()
    return [
        (
            _code_cell(code),
            int(count),
            local_time(last, criteria.zone),
            cells.failure_reason(code, reason),
        )
        for code, count, last, reason in sorted(
            ((code or None, n, last, reason) for code, n, last, reason in found),
            key=lambda r: (-r[1], r[0] is None, r[0] or ""),
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
