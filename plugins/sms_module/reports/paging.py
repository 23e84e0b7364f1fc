"""Keyset pages of the long reports (issue 14, point 2): a page is the rows after the last
one of the page before, found through an index in the report's order, never by counting
the rows before it. The cursor (the ``after`` query parameter) is the last row's key:
"<microseconds since 1970>_<id>" for a report in time order, "<id>" in id order. A cursor
that cannot be read gives the first page: only ASCII digits are read (not a superscript
"²", which ``str.isdigit`` accepts and ``int`` refuses), an id no larger than an integer
column holds, a time within the calendar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import tuple_

from host.api import db

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
MAX_ID = 2**31 - 1  # the largest id an integer column holds (PostgreSQL's int4)
# A time cursor: microseconds (18 digits reach past the year 9999) and an id; an id cursor.
_TIME_CURSOR = re.compile(r"(-?[0-9]{1,18})_([0-9]{1,10})")
_ID_CURSOR = re.compile(r"[0-9]{1,10}")


def time_cursor(moment: datetime, row_id: int) -> str:
    """The cursor of a row whose key is (``moment``, ``row_id``)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # stored times are UTC
    return f"{(moment - EPOCH) // _MICROSECOND}_{row_id}"


def read_time_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (time, id) of a ``time_cursor``; ``None`` for none or one that cannot be read."""
    found = _TIME_CURSOR.fullmatch(cursor or "")
    if found is None or int(found[2]) > MAX_ID:
        return None
    try:
        return EPOCH + int(found[1]) * _MICROSECOND, int(found[2])
    except OverflowError:  # past the calendar
        return None


def read_id_cursor(cursor: str | None) -> int | None:
    """The id of an id cursor; ``None`` for none or one that cannot be read."""
    if _ID_CURSOR.fullmatch(cursor or "") is None or int(cursor) > MAX_ID:
        return None
    return int(cursor)


def newest_first(query, time_column, id_column, cursor: str | None, size: int):
    """Return ``query`` newest first by (``time_column``, ``id_column``), from the row after
    ``cursor``, at most ``size`` + 1 rows (the extra one tells a next page exists)."""
    after = read_time_cursor(cursor)
    if after is not None:
        query = query.where(tuple_(time_column, id_column) < tuple_(*after))
    return query.order_by(time_column.desc(), id_column.desc()).limit(size + 1)


def page_of(
    query, size: int, key: Callable[[Sequence], str], shape: Callable[[Sequence], tuple]
) -> tuple[list[tuple], str | None]:
    """Run a query of ``size`` + 1 rows (``newest_first``); return the first ``size``
    shaped by ``shape`` and the cursor of the next page (``key`` of the last row shown),
    ``None`` when none follows."""
    rows = db.session.execute(query).all()
    shown = rows[:size]
    after = key(shown[-1]) if len(rows) > size and shown else None
    return [shape(row) for row in shown], after


def shaped(rows: Iterable[Sequence], shape: Callable[[Sequence], tuple]) -> Iterable[tuple]:
    """Yield each of ``rows`` through ``shape``."""
    for row in rows:
        yield shape(row)
