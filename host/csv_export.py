"""CSV files the product writes, safe to open in a spreadsheet (issue 13 §7).

Every export (the reports at ``/reports/<name>.csv``, the SMS consent ledger) goes through
``csv_response``, which streams the file:

- it starts with a UTF-8 byte-order mark, so Excel reads UTF-8 ("Élodie", not "Ã‰lodie");
- a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
  prefixed with a single quote (OWASP, "CSV Injection"), so a spreadsheet never runs it as a
  formula. Phone numbers included: ``+15145550101`` is written ``'+15145550101``; Excel and
  LibreOffice show it as text with the apostrophe in front, the ``+`` kept (remove the
  apostrophe with find and replace to get the bare number). Numbers the product computes
  (``int``, ``Decimal``, ``float``: a negative total) are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal

from flask import Response, stream_with_context

BOM = "\ufeff"
# OWASP's list of the characters a spreadsheet reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ROWS_PER_CHUNK = 500


def spreadsheet_cell(value: object) -> object:
    """Return ``value`` as a cell a spreadsheet shows and never evaluates: ``None`` is empty,
    a number stays a number, a text starting with one of ``FORMULA_STARTS`` gets a leading
    single quote (OWASP CSV-injection rule)."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(columns: Iterable[object], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Yield the CSV text of ``columns`` then ``rows`` in chunks of a few hundred rows, the
    first starting with the byte-order mark; each cell through ``spreadsheet_cell``."""
    out = io.StringIO(BOM)
    out.seek(len(BOM))
    writer = csv.writer(out)
    writer.writerow([spreadsheet_cell(c) for c in columns])
    for count, row in enumerate(rows, start=1):
        writer.writerow([spreadsheet_cell(cell) for cell in row])
        if count % _ROWS_PER_CHUNK == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def csv_response(
    filename: str, columns: Iterable[object], rows: Iterable[Iterable[object]]
) -> Response:
    """Return a streamed download of ``columns`` and ``rows`` as ``filename`` (UTF-8 with a
    byte-order mark, cells neutralised: see the module). ``rows`` is read while the answer
    is sent, in the request's context (a query may stream from the database)."""
    return Response(
        stream_with_context(csv_lines(columns, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
