"""Pages listing, showing and exporting the reports every plugin declares."""

from __future__ import annotations

import csv
import io
from itertools import islice

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user, login_required

from host.access import current_shop

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")

SHOWN_ROWS = 500


def _report(name: str):
    report = current_app.extensions["reports"].get(name)
    if report is None:
        abort(404)
    return report


def _scope():
    """Return the shop whose data the user sees; ``None`` means every shop (operator only)."""
    shop = current_shop()
    if shop is None and not current_user.is_operator:
        abort(404)
    return shop


def _filters(report) -> dict[str, str]:
    return {f: request.args.get(f, "")[:200] for f in report.filters}


@bp.get("/")
@login_required
def index():
    """List the reports."""
    reports = sorted(current_app.extensions["reports"].values(), key=lambda r: str(r.title))
    return render_template("reports/index.html", reports=reports)


@bp.get("/<name>")
@login_required
def show(name: str):
    """Show a report's first rows with its filters."""
    report = _report(name)
    filters = _filters(report)
    rows = list(islice(report.rows(_scope(), filters), SHOWN_ROWS + 1))
    return render_template(
        "reports/show.html",
        report=report,
        rows=rows[:SHOWN_ROWS],
        truncated=len(rows) > SHOWN_ROWS,
        filters=filters,
    )


@bp.get("/<name>.csv")
@login_required
def export(name: str):
    """Export a whole report as CSV."""
    report = _report(name)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(report.columns)
    writer.writerows(report.rows(_scope(), _filters(report)))
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{report.name}.csv"'},
    )
