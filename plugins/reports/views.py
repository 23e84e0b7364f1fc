"""Pages listing, showing and exporting the reports every plugin declares.

A report's rows carry typed values, and each output writes them its way (issue 12,
points 1, 2 and 6):

- the page (``cell_text``) shows a value with a ``label`` attribute (a code with its
  label, an amount with its currency…) by its label, a time the reader's way in its own
  zone (the operator reads the zone's name), a day the reader's way, a number through
  Babel ("1 234,5" in French); columns and filters with a ``label`` are headed by it;
- the CSV (``csv_cell``) keeps the machine values as before: the code, the amount
  ("0.00830"), the time in ISO 8601 with its offset; columns marked ``page_only`` (a
  message's text, shortened, in the message log) are left out of it.

The chart is drawn from the whole report, not the rows shown (issue 12 point 6), and the
operator, with no shop picked, narrows a report to one shop with the ``shop`` filter.

A page shows ``SHOWN_ROWS`` rows and links to the next (issue 14, point 2): a long report
reads a page by keyset (its ``page``), from the cursor in the ``after`` parameter; the
others are cut from their rows. A number read from the query string (the ``shop``, a cut
page's ``after``) is ASCII digits within what its column holds (``whole``): anything else
(a superscript "²" that ``str.isdigit`` accepts, an id past PostgreSQL's int4) reads as no
number (every shop, the first page), never a 500. A report's CSV is streamed as it is
read, from rows or from the text the database wrote (``CsvText``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import islice

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from host.api import Company, CsvText, csv_lines, csv_response, current_shop, db
from plugins.reports.cells import cell_text, csv_rows, exported, heading
from plugins.reports.chart import chart_layout

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")

SHOWN_ROWS = 500
TEXT_CHUNK = 65536  # characters of a database-written CSV sent at a time
MAX_ID = 2**31 - 1  # the largest id an integer column holds (PostgreSQL's int4)
MAX_OFFSET = 10**9 - 1  # the rows a cut page may start after


def whole(text: str | None, maximum: int) -> int | None:
    """Return ``text`` read as a whole number written in ASCII digits, at most ``maximum``;
    ``None`` for anything else (a sign, a space, a digit "²" or "٣", a larger number)."""
    if not text or not re.fullmatch(f"[0-9]{{1,{len(str(maximum))}}}", text):
        return None
    number = int(text)
    return number if number <= maximum else None


def _report(name: str):
    report = current_app.extensions["reports"].get(name)
    if report is None:
        abort(404)
    return report


def _shops() -> list | None:
    """The shops the operator may narrow a report to (no shop picked); ``None`` otherwise."""
    if current_shop() is not None or not current_user.is_operator:
        return None
    return list(db.session.scalars(select(Company).order_by(Company.name, Company.id)))


def _scope():
    """Return the shop whose data the user sees; ``None`` means every shop (operator only).

    The operator with no shop picked narrows to one with ``?shop=<id>`` (issue 12 point 6);
    an unknown id is ignored (every shop), and so is anything but an id (``whole``)."""
    shop = current_shop()
    if shop is None:
        if not current_user.is_operator:
            abort(404)
        picked = whole(request.args.get("shop"), MAX_ID)
        shop = db.session.get(Company, picked) if picked is not None else None
    g.report_shop = shop  # whose zone the page writes times in (``time_text``)
    return shop


def _filters(report) -> dict[str, str]:
    return {f: request.args.get(f, "")[:200] for f in report.filters}


def _notes(report, filters: Mapping[str, str]) -> list[str]:
    """Say which filter values the report ignores (an invalid date, an unknown status)."""
    return [str(n) for n in report.check_filters(filters)] if report.check_filters else []


@bp.get("/")
@login_required
def index():
    """List the reports."""
    reports = sorted(current_app.extensions["reports"].values(), key=lambda r: str(r.title))
    return render_template("reports/index.html", reports=reports)


@bp.get("/<name>")
@login_required
def show(name: str):
    """Show a page of a report's rows with its filters; its chart, and the count of its
    rows, over the whole report (issue 12 point 6). The ``after`` parameter is the cursor
    of the page (a "next page" link gives it): a report that pages by keyset (``page``)
    reads only that page's rows (issue 14, point 2); another's pages are cut from its
    rows, ``after`` the number of rows before."""
    report = _report(name)
    filters = _filters(report)
    scope = _scope()
    after = request.args.get("after", "")[:100] or None
    chart = count = None
    offset = 0
    if report.page is not None:
        shown, next_after = report.page(scope, filters, after, SHOWN_ROWS)
        shown = list(shown)
        if report.chart:
            every = list(report.rows(scope, filters))
            chart, count = chart_layout(report.chart, report.columns, every), len(every)
    else:
        offset = whole(after, MAX_OFFSET) or 0
        rows = iter(report.rows(scope, filters))
        if report.chart:
            every = list(rows)
            chart, count = chart_layout(report.chart, report.columns, every), len(every)
            window = every[offset : offset + SHOWN_ROWS + 1]
        else:
            window = list(islice(rows, offset, offset + SHOWN_ROWS + 1))
        shown = window[:SHOWN_ROWS]
        next_after = str(offset + SHOWN_ROWS) if len(window) > SHOWN_ROWS else None
    shops = _shops()
    export_args = dict(filters)
    if shops is not None and scope is not None:
        export_args["shop"] = scope.id
    return render_template(
        "reports/show.html",
        report=report,
        cells=_cells(report, shown),
        truncated=next_after is not None and after is None,
        count=count,
        shown_count=len(shown),
        first_row=offset + 1,
        next_after=next_after,
        after=after,
        filters=filters,
        notes=_notes(report, filters),
        chart=chart,
        shops=shops,
        picked_shop=scope,
        export_args=export_args,
        headings=[heading(c) for c in report.columns],
        filter_labels={f: heading(f) for f in report.filters},
        filter_types={f: getattr(f, "input_type", "text") for f in report.filters},
    )


def _cells(report, rows) -> list[list[tuple[str, bool, str | None]]]:
    """Each row's cells as the page writes them: the text people read (``cell_text``),
    whether it is people's text that may wrap anywhere (a string without a label, not a
    phone number: issue 12 point 4), and the link of a row's first cell to its detail."""
    link = None
    if report.detail is not None and rows:
        link = url_for("reports.detail", name=report.name, row_id=0)[:-1]  # ".../<row id>"
    shown = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            wraps = isinstance(value, str) and getattr(value, "label", None) is None
            wraps = wraps and not (value[:1] == "+" and value[1:].isdigit())
            if i == 0 and link is not None:
                cells.append((str(value), wraps, f"{link}{value}"))
            else:
                cells.append((cell_text(value), wraps, None))
        shown.append(cells)
    return shown


@bp.get("/<name>/<int:row_id>")
@login_required
def detail(name: str, row_id: int):
    """Show one row of a report that has details (e.g. a message and its status history)."""
    report = _report(name)
    if report.detail is None:
        abort(404)
    found = report.detail(_scope(), row_id)
    if found is None:
        abort(404)  # not there, or another shop's: the same answer
    return render_template("reports/detail.html", report=report, detail=found)


@bp.get("/<name>.csv")
@login_required
def export(name: str):
    """Export a whole report as CSV, streamed: UTF-8 with a byte-order mark, each cell safe
    in a spreadsheet (``host.api.csv_response``, issue 13 §7); its columns' keys and the
    machine values (codes, ISO times, "0.00830"), never the page's labels (``csv_cell``).
    The rows are read while the file is sent (a report's ``rows`` or ``export`` streams
    them from the database): the download starts at once, in bounded memory."""
    report = _report(name)
    columns = [str(report.columns[i]) for i in exported(report.columns)]
    if report.export is not None:  # rows already as the CSV writes them
        rows = report.export(_scope(), _filters(report))
        if isinstance(rows, CsvText):
            return _text_response(f"{report.name}.csv", columns, rows)
    else:
        rows = csv_rows(report.columns, report.rows(_scope(), _filters(report)))
    return csv_response(f"{report.name}.csv", columns, rows)


def _text_response(filename: str, columns: list[str], text: CsvText) -> Response:
    """Stream a CSV the database wrote (``CsvText``) as ``csv_response`` streams rows: the
    byte-order mark and the header first, then the text as it comes, gathered in chunks
    of some 64 kB."""

    def chunks():
        yield from csv_lines(columns, [])
        batch, size = [], 0
        for piece in text:
            batch.append(piece)
            size += len(piece)
            if size >= TEXT_CHUNK:
                yield "".join(batch)
                batch, size = [], 0
        if batch:
            yield "".join(batch)

    return Response(
        stream_with_context(chunks()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.app_template_filter("report_cell")
def report_cell(value: object) -> str:
    """The ``report_cell`` filter: a report's cell as people read it (``cell_text``)."""
    return cell_text(value)
