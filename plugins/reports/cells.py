"""How a report's cells read (issue 12 points 1 and 2): on the page by their label, a time
the reader's way in the report's shop zone, a number through Babel; in the CSV as machine
values (codes, ISO 8601 times, amounts as stored)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_decimal
from flask import g
from flask_babel import gettext as _

from host.api import reader_locale, shop_zone


def heading(column: str) -> str:
    """Return the heading of a column or a filter: its ``label``, else its key in words."""
    label = getattr(column, "label", None)
    return str(label) if label is not None else column.replace("_", " ")


def locale() -> str:
    """The reader's locale for the report's shop (``host.api.reader_locale``), found once
    a page: a page of 500 rows writes thousands of cells."""
    found = g.get("report_locale")
    if found is None:
        found = g.report_locale = reader_locale(g.get("report_shop"))
    return found


def time_text(moment: datetime) -> str:
    """Write a time the reader's way in the zone of the shop the report is about
    ("5 janv. 2025, 10 h 00"); for every shop (the operator) in UTC, named ("… UTC"):
    what ``host.api.localtime`` writes, its day and its hour each formatted once a page."""
    shop = g.get("report_shop")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # stored moments are UTC
    local = moment.astimezone(shop_zone(shop))
    text = _moment_text(local.date(), local.hour, local.minute, locale())
    return f"{text} UTC" if shop is None or not shop.time_zone else text


@lru_cache(maxsize=8192)
def _moment_text(day: date, hour: int, minute: int, where: str) -> str:
    return get_datetime_format("medium", locale=where).format(
        format_time(time(hour, minute), "short", locale=where),
        format_date(day, "medium", locale=where),
    )


@lru_cache(maxsize=8192)
def number_text(value: int | float | Decimal, where: str) -> str:
    return format_decimal(value, locale=where)


@lru_cache(maxsize=4096)
def _day_text(day: date, where: str) -> str:
    return format_date(day, "medium", locale=where)


def _label_text(label: object) -> str:
    """A label as read on this page: a translated label (a lazy string) is looked up once
    a page (the log's 500 rows show the same few)."""
    if isinstance(label, str):
        return label
    labels = g.get("report_labels")
    if labels is None:
        labels = g.report_labels = {}
    key = id(label)
    found = labels.get(key)
    if found is None or found[0] is not label:
        found = labels[key] = (label, str(label))
    return found[1]


def cell_text(value: object) -> str:
    """Return what a person reads for a report's cell (issue 12 points 1 and 2): its
    ``label`` when it has one, a time or a day the reader's way, a number through Babel."""
    if value is None:
        return ""
    label = getattr(value, "label", None)
    if label is not None:
        return _label_text(label)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return time_text(value)
    if isinstance(value, date):
        return _day_text(value, locale())
    if isinstance(value, int | float | Decimal):
        return number_text(value, locale())
    return str(value)


def csv_cell(value: object) -> object:
    """Return a cell as the CSV writes it: a time in ISO 8601 with its offset
    (2026-01-05T09:30:00-05:00), a day YYYY-MM-DD, anything else as it is."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def exported(columns: Sequence[str]) -> list[int]:
    """The positions of the columns the CSV writes (not the ``page_only`` ones)."""
    return [i for i, c in enumerate(columns) if not getattr(c, "page_only", False)]


def csv_rows(columns: Sequence[str], rows: Iterable[Sequence]) -> Iterable[list]:
    """Yield ``rows`` as the CSV writes them: exported columns only, each ``csv_cell``."""
    kept = exported(columns)
    for row in rows:
        yield [csv_cell(row[i]) for i in kept]
