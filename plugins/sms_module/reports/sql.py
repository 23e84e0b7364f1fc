"""The queries every SMS report shares, and how their values are written.

Narrowing to the viewer's shop (``scoped``) and to the dates filtered (``in_window``), the
day or month of a stored time in the viewer's zone (``period_sql``), a message's status as
reported (``status_text``: "refused" for a refusal, apart from the carrier's outcomes),
whether it is a refusal (``refused``), long reads fetched a few rows at a time
(``stream``), and times and money as the reports' rows carry them (``local_time``: a time in
the viewer's zone; ``money``: an ``Amount``; the page and the CSV each write them their way,
issue 12 point 2).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func

from host.api import db
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.models.statuses import REFUSED, is_refusal, lacks_report, refusal_sql
from plugins.sms_module.reports.cells import NO_REPORT, Amount
from plugins.sms_module.reports.filters import Criteria

__all__ = ["NO_REPORT"]  # how a Sent message long without a delivery report is coded (§6)
STREAM_ROWS = 500  # rows fetched at a time by the long reports
CENTS = Decimal("0.00001")  # the precision of stored prices
PERIOD_FORMATS = {"day": ("%Y-%m-%d", "YYYY-MM-DD"), "month": ("%Y-%m", "YYYY-MM")}


def _local_period(value: str | None, zone: str, fmt: str) -> str | None:
    """SQLite's ``sms_local_period``: the day or month of a stored UTC time in ``zone``."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # stored times are UTC
    return moment.astimezone(ZoneInfo(zone)).strftime(fmt)


def period_sql(column, zone: str, period: str):
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


def scoped(query, company, column=SmsMessage.company_id):
    """Narrow ``query`` to the rows of ``company`` (``None``, the operator: every shop)."""
    return query if company is None else query.where(column == company.id)


def in_window(query, column, criteria: Criteria):
    """Narrow ``query`` to the rows whose ``column`` falls between the filtered dates."""
    if criteria.start is not None:
        query = query.where(column >= criteria.start)
    if criteria.end is not None:
        query = query.where(column < criteria.end)
    return query


def refused():
    """Tell, in SQL, whether a message is a refusal (``statuses.is_refusal``)."""
    return refusal_sql(SmsMessage.status, SmsMessage.failure_code)


def status_text(
    status: str, updated_at: datetime | None, now: datetime, failure_code: str | None = None
) -> str:
    """Return the status as reported: "sent (no delivery report)" for a Sent message too
    long without one (§6), "refused" for a refusal, else the status."""
    if lacks_report(status, updated_at, now):
        return NO_REPORT
    return REFUSED if is_refusal(status, failure_code) else str(status)


def local_time(moment: datetime | None, zone: str) -> datetime | None:
    """Return a stored time in the viewer's zone (the CSV writes it with its offset,
    2026-01-05T09:30:00-05:00; the page the reader's way); ``None`` stays ``None``."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # stored times are UTC
    return moment.astimezone(ZoneInfo(zone))


def money(value, currency: str | None = None) -> Amount | None:
    """Return an amount to the precision of stored prices (written "0.00830" in the CSV) in
    ``currency`` (ISO 4217, CAD when unknown); ``None`` stays ``None``."""
    return None if value is None else Amount(Decimal(value).quantize(CENTS), currency)


def stream(query) -> Iterator:
    """Run ``query`` fetching rows a few hundred at a time, closing it when abandoned."""
    result = db.session.execute(query.execution_options(yield_per=STREAM_ROWS))
    try:
        yield from result
    finally:
        result.close()
