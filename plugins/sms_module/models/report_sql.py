"""The SQL that keeps the report summaries (``report_tables``), written once for both
databases: what one message or one history step adds to the summary rows, as a SELECT over
any source of message rows (the rows a statement inserted, a row before and after a
change, or the whole table when it is counted again).

PostgreSQL reads a shop's day with ``AT TIME ZONE``; SQLite, which has no time zones, with
``sms_local_day``, a Python function every SQLite connection of the application gets
(``register_functions``), like ``sms_delay_bucket``.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.engine import Engine

from plugins.sms_module.models.codes import REFUSALS

_CODES = ", ".join(f"'{code.value}'" for code in sorted(REFUSALS))
COLUMNS = (
    "view, company_id, day, queue, status, code, currency, bucket, messages, charged, "
    "attempts, segments, cost, low, high, last_at, reason"
)
KEY = "view, company_id, bucket, day, queue, status, code, currency"
# The message columns whose change moves a message's figures (and said/not said).
TRACKED = (
    "company_id",
    "direction",
    "queue",
    "status",
    "failure_code",
    "attempts",
    "segments",
    "price",
    "currency",
    "created_at",
)
# The message columns the figures read, as a trigger's row gives them to a subquery.
READ = (*TRACKED, "id", "failure_reason", "updated_at", "phone", "body")


def delay_bucket(seconds: float) -> int:
    """Return the bucket of a time to delivery (seconds ≥ 0): ``floor(20·log10(1 + s))``,
    about 12 % wide (0–0.12 s is bucket 0, 60 s is 35, 1000 s is 60)."""
    return int(math.floor(20 * math.log10(1 + max(0.0, float(seconds)))))


def local_day(value: str | None, zone: str) -> str | None:
    """SQLite's ``sms_local_day``: the day (YYYY-MM-DD) in ``zone`` of a stored UTC time."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # stored times are UTC
    return moment.astimezone(ZoneInfo(zone)).date().isoformat()


@event.listens_for(Engine, "connect")
def register_functions(dbapi_connection, _record) -> None:
    """Give every SQLite connection the functions the summary triggers call."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("sms_local_day", 2, local_day, deterministic=True)
        dbapi_connection.create_function("sms_delay_bucket", 1, delay_bucket, deterministic=True)


class Dialect:
    """The few expressions the two databases write differently."""

    def __init__(self, name: str) -> None:
        self.pg = name == "postgresql"

    def local_day(self, moment: str, zone: str) -> str:
        if self.pg:
            return f"(({moment}) AT TIME ZONE {zone})::date"
        return f"sms_local_day({moment}, {zone})"

    def utc_day(self, moment: str) -> str:
        return f"(({moment}) AT TIME ZONE 'UTC')::date" if self.pg else f"date({moment})"

    def seconds(self, later: str, earlier: str) -> str:
        if self.pg:
            return f"greatest(0, EXTRACT(EPOCH FROM ({later}) - ({earlier}))::double precision)"
        return f"max(0.0, (julianday({later}) - julianday({earlier})) * 86400.0)"

    def bucket(self, seconds: str) -> str:
        if self.pg:
            return f"floor(20 * log(1 + ({seconds})))::smallint"
        return f"sms_delay_bucket({seconds})"

    def null(self, kind: str) -> str:
        types = {"float": "double precision", "time": "timestamptz", "text": "text"}
        return f"NULL::{types[kind]}" if self.pg else "NULL"

    def greatest(self, a: str, b: str) -> str:
        """The greater of two values, either of which may be NULL (the other wins)."""
        if self.pg:
            return f"greatest({a}, {b})"
        return (
            f"CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} >= {b} THEN {a} ELSE {b} END"
        )

    def least(self, a: str, b: str) -> str:
        if self.pg:
            return f"least({a}, {b})"
        return (
            f"CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} <= {b} THEN {a} ELSE {b} END"
        )


def refused(m: str) -> str:
    """SQL: message ``m`` is a refusal (``statuses.is_refusal``), never NULL."""
    return f"({m}.status = 'failed' AND coalesce({m}.failure_code, '') IN ({_CODES}))"


def failing(m: str) -> str:
    """SQL: message ``m`` is undelivered or failed at the carrier (not a refusal)."""
    return (
        f"({m}.status = 'undelivered' OR ({m}.status = 'failed' "
        f"AND coalesce({m}.failure_code, '') NOT IN ({_CODES})))"
    )


def said(m: str) -> str:
    """SQL: message ``m`` is part of what a conversation said (``views.inbox.said``)."""
    return (
        f"({m}.direction = 'inbound' OR (NOT {refused(m)} AND {m}.status <> 'canceled' "
        f"AND trim({m}.body) <> ''))"
    )


_ZONE = (
    "LEFT JOIN company c ON c.id = m.company_id "
    "LEFT JOIN sms_report_region r ON r.country_code = c.country AND r.province_code = c.province"
)


def _figures(d: Dialect, source: str, where: str, **values: str) -> str:
    """A SELECT of one figures row per row of ``source`` (aliased ``m``, joined to its
    shop's zone), columns as ``expand`` reads them; ``values`` give the figures."""
    zone = "coalesce(r.zone, 'UTC')"
    columns = {
        "company_id": "m.company_id",
        "local_day": d.local_day("m.created_at", zone),
        "utc_day": d.utc_day("m.created_at"),
        "queue": "m.queue",
        **values,
    }
    listed = ", ".join(f"{sql} AS {name}" for name, sql in columns.items())
    return f"SELECT {listed} FROM {source} {_ZONE} WHERE m.direction = 'outbound' AND {where}"


def message_figures(d: Dialect, source: str, sign: int, with_failure: bool = True) -> str:
    """What each message of ``source`` counts for (``sign`` -1 takes it back); with
    ``with_failure``, its failure time (``m.failed_at``) and reason."""
    charged = "(CASE WHEN m.attempts > 0 THEN 1 ELSE 0 END)"
    return _figures(
        d,
        source,
        "1 = 1",
        status=f"CASE WHEN {refused('m')} THEN 'refused' ELSE m.status END",
        code=f"CASE WHEN {failing('m')} THEN coalesce(m.failure_code, '') ELSE '' END",
        currency="m.currency",
        bucket="-1",
        messages=str(sign),
        charged=f"{sign} * {charged}",
        attempts=f"{sign} * m.attempts",
        segments=f"{sign} * m.segments * m.attempts",
        cost=f"{sign} * m.price * m.attempts",
        low=d.null("float"),
        high=d.null("float"),
        last_at=f"CASE WHEN {failing('m')} THEN m.failed_at END"
        if with_failure and sign > 0
        else d.null("time"),
        reason=f"CASE WHEN {failing('m')} THEN m.failure_reason END"
        if with_failure and sign > 0
        else d.null("text"),
        cost_row=charged,
    )


def _step_figures(d: Dialect, source: str, where: str, **values: str) -> str:
    return _figures(
        d,
        source,
        where,
        charged="0",
        attempts="0",
        segments="0",
        cost="0",
        **values,
        reason=d.null("text"),
        cost_row="0",
    )


def delay_figures(d: Dialect, source: str) -> str:
    """A delivery timed: ``source`` gives messages with ``m.delay`` (seconds)."""
    return _step_figures(
        d,
        source,
        "m.status = 'delivered' AND m.delay IS NOT NULL",
        status="'delivered'",
        code="''",
        currency="''",
        bucket=d.bucket("m.delay"),
        messages="1",
        low="m.delay",
        high="m.delay",
        last_at=d.null("time"),
    )


def failure_figures(d: Dialect, source: str, at: str) -> str:
    """A failure step at ``at``: the last failure time of its message's code."""
    return _step_figures(
        d,
        source,
        failing("m"),
        status="m.status",
        code="coalesce(m.failure_code, '')",
        currency="m.currency",
        bucket="-1",
        messages="0",
        low=d.null("float"),
        high=d.null("float"),
        last_at=at,
    )


def expand(figures: str, views: tuple[str, ...] = ("shop", "platform", "cost")) -> str:
    """The summary rows of ``figures``: the shop's day (view 1), the platform's UTC day
    (view 2, every shop), and the shop's charges by UTC day (view 2, status "")."""
    tail = "t.messages, t.charged, t.attempts, t.segments, t.cost"
    same = (
        f"t.queue, t.status, t.code, t.currency, t.bucket, {tail}, "
        "t.low, t.high, t.last_at, t.reason"
    )
    parts = {
        "shop": f"SELECT 1 AS view, t.company_id, t.local_day AS day, {same} "
        f"FROM ({figures}) t WHERE t.company_id IS NOT NULL",
        "platform": f"SELECT 2 AS view, 0 AS company_id, t.utc_day AS day, {same} "
        f"FROM ({figures}) t",
        "cost": f"SELECT 2 AS view, t.company_id, t.utc_day AS day, t.queue, '' AS status, "
        f"'' AS code, t.currency, -1 AS bucket, {tail}, NULL AS low, NULL AS high, "
        f"NULL AS last_at, NULL AS reason FROM ({figures}) t "
        "WHERE t.cost_row = 1 AND t.company_id IS NOT NULL",
    }
    return " UNION ALL ".join(parts[v] for v in views)


def pregrouped(figures: str) -> str:
    """``figures`` summed by what ``expand`` keys them on: thousands of rows for a million
    messages, before they are spread over the views."""
    keys = "company_id, local_day, utc_day, queue, status, code, currency, bucket, cost_row"
    return (
        f"SELECT {keys}, sum(messages) AS messages, sum(charged) AS charged, "
        "sum(attempts) AS attempts, sum(segments) AS segments, sum(cost) AS cost, "
        "min(low) AS low, max(high) AS high, max(last_at) AS last_at, max(reason) AS reason "
        f"FROM ({figures}) f GROUP BY {keys}"
    )


def grouped(rows: str) -> str:
    """``rows`` summed by key, the rows that change nothing left out (COLUMNS' order)."""
    return (
        f"SELECT view, company_id, day, queue, status, code, currency, bucket, "
        "sum(messages), sum(charged), sum(attempts), sum(segments), sum(cost), min(low), "
        f"max(high), max(last_at), max(reason) FROM ({rows}) x GROUP BY {KEY} "
        "HAVING sum(messages) <> 0 OR sum(charged) <> 0 OR sum(attempts) <> 0 "
        "OR sum(cost) <> 0 OR min(low) IS NOT NULL OR max(last_at) IS NOT NULL "
        "OR max(reason) IS NOT NULL"
    )


def append(rows: str) -> str:
    """The statement appending ``rows`` to the deltas, summed by key."""
    return f"INSERT INTO sms_report_delta ({COLUMNS}) {grouped(rows)}"


def step_start(d: Dialect, message_id: str, delivered_at: str) -> str:
    """SQL: when the attempt that reached the phone began: its Sending step, else the
    first Sent step (the history as it stands), at or before ``delivered_at``."""
    pick = (
        "(SELECT {f}(s.at) FROM sms_status_change s WHERE s.message_id = {mid} "
        "AND s.status = '{st}' AND s.at <= {at})"
    )
    sending = pick.format(f="max", mid=message_id, st="sending", at=delivered_at)
    sent = pick.format(f="min", mid=message_id, st="sent", at=delivered_at)
    return f"coalesce({sending}, {sent})"
