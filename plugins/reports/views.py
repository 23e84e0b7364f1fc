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
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice

from flask import Blueprint, abort, current_app, g, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from host.api import Company, csv_response, current_shop, db
from plugins.reports.cells import cell_text, csv_rows, exported, heading
from plugins.reports.chart import chart_layout

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")

SHOWN_ROWS = 500


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
    an unknown id is ignored (every shop)."""
    shop = current_shop()
    if shop is None:
        if not current_user.is_operator:
            abort(404)
        picked = request.args.get("shop", "")
        shop = db.session.get(Company, int(picked)) if picked.isdigit() else None
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
    """Show a report's first rows with its filters; its chart, and the count of its rows,
    over the whole report (issue 12 point 6)."""
    report = _report(name)
    filters = _filters(report)
    scope = _scope()
    rows = iter(report.rows(scope, filters))
    first = list(islice(rows, SHOWN_ROWS + 1))
    shown = first[:SHOWN_ROWS]
    chart = count = None
    if report.chart:
        counted = []  # the rows past the shown ones, counted as the chart reads them

        def everything():
            yield from first
            for row in rows:
                counted.append(None)
                yield row

        chart = chart_layout(report.chart, report.columns, everything())
        count = len(first) + len(counted)
    shops = _shops()
    export_args = dict(filters)
    if shops is not None and scope is not None:
        export_args["shop"] = scope.id
    return render_template(
        "reports/show.html",
        report=report,
        rows=shown,
        truncated=len(first) > SHOWN_ROWS,
        count=count,
        shown_count=len(shown),
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
    machine values (codes, ISO times, "0.00830"), never the page's labels (``csv_cell``)."""
    report = _report(name)
    rows = report.rows(_scope(), _filters(report))
    columns = [str(report.columns[i]) for i in exported(report.columns)]
    return csv_response(f"{report.name}.csv", columns, csv_rows(report.columns, rows))


@bp.app_template_filter("report_cell")
def report_cell(value: object) -> str:
    """The ``report_cell`` filter: a report's cell as people read it (``cell_text``)."""
    return cell_text(value)
