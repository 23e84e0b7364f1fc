"""How a report's cells read (issue 12 points 1 and 2): on the page by their label, a time
the reader's way in the report's shop zone, a number through Babel; in the CSV as machine
values (codes, ISO 8601 times, amounts as stored)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import g
from flask_babel import gettext as _

from host.api import localtime, reader_locale


def heading(column: str) -> str:
    """Return the heading of a column or a filter: its ``label``, else its key in words."""
    label = getattr(column, "label", None)
    return str(label) if label is not None else column.replace("_", " ")


def time_text(moment: datetime) -> str:
    """Write a time the reader's way in the zone of the shop the report is about
    ("5 janv. 2025, 10 h 00"); for every shop (the operator) in UTC, named ("… UTC"):
    ``host.api.localtime``."""
    return localtime(moment, g.get("report_shop"))


def cell_text(value: object) -> str:
    """Return what a person reads for a report's cell (issue 12 points 1 and 2): its
    ``label`` when it has one, a time or a day the reader's way, a number through Babel."""
    if value is None:
        return ""
    label = getattr(value, "label", None)
    if label is not None:
        return str(label)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return time_text(value)
    if isinstance(value, date):
        return format_date(value, "medium", locale=reader_locale())
    if isinstance(value, int | float | Decimal):
        return format_decimal(value, locale=reader_locale())
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
