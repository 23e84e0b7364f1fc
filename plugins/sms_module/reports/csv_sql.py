"""CSV written by PostgreSQL for the exports of a million rows (issue 14, point 2): the
database writes each row as ``host.api.csv_response`` would (every text cell made safe in a
spreadsheet by ``spreadsheet_cell``'s rule, quoted when it holds a comma, a quote or a line
break; numbers as they are; times in ISO 8601 with their offset) with ``COPY … TO STDOUT``,
and the page streams what comes, as it comes (``host.api.CsvText``). Python would spend
tens of microseconds a row on the same work; SQLite exports keep the Python path.
"""

from __future__ import annotations

import codecs
import enum
from collections.abc import Iterator

from sqlalchemy import Integer, Text, case, cast, func, literal

from host.api import db, spreadsheet_cell

# The first characters ``spreadsheet_cell`` neutralises (a formula's start, OWASP).
FORMULA_STARTS = tuple(c for c in map(chr, range(128)) if spreadsheet_cell(c) != c)


def text_cell(value):
    """SQL: a text cell as the CSV writes it: NULL (an empty cell) for NULL or "", a quote
    before a formula's first character. (``COPY``'s CSV quotes it as Python's writer does.)"""
    value = func.nullif(cast(value, Text), "")
    return case((func.left(value, 1).in_(FORMULA_STARTS), literal("'") + value), else_=value)


def number_cell(value):
    """SQL: a number cell as the CSV writes it (its text; empty for NULL)."""
    return cast(value, Text)


def iso_time(moment, zone: str):
    """SQL: ``moment`` in ``zone`` as Python's ``isoformat(timespec="seconds")`` writes it
    with its offset: "2026-01-05T09:30:00-05:00"."""
    local = func.timezone(zone, moment)
    offset = cast(func.date_part("epoch", local - func.timezone("UTC", moment)), Integer)
    sign = case((offset < 0, "-"), else_="+")
    hours = func.lpad(cast(func.abs(offset) // 3600, Text), 2, "0")
    minutes = func.lpad(cast(func.abs(offset) % 3600 // 60, Text), 2, "0")
    return func.to_char(local, 'YYYY-MM-DD"T"HH24:MI:SS') + sign + hours + ":" + minutes


def copy_csv(query) -> Iterator[str]:
    """Yield the CSV text of ``query``'s rows (each column a cell: ``text_cell``,
    ``number_cell``) as PostgreSQL's ``COPY`` writes it, lines ending "\\r\\n" as Python's
    writer ends them, a row at a time as it arrives: the first row leaves at once, and
    nothing is held. Runs in the session's transaction."""
    connection = db.session.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = {k: v.value if isinstance(v, enum.Enum) else v for k, v in compiled.params.items()}
    decoder = codecs.getincrementaldecoder("utf-8")()
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        statement = f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)"
        with cursor.copy(statement, params) as copy:
            for data in copy:  # a row each: its line break is the last "\n"
                row = decoder.decode(bytes(data))
                yield row[:-1] + "\r\n" if row.endswith("\n") else row
    if tail := decoder.decode(b"", final=True):
        yield tail
