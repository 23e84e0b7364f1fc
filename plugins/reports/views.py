"""Pages listing, showing and exporting the reports every plugin declares."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required

from host.api import Chart, csv_response, current_shop

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


def _notes(report, filters: Mapping[str, str]) -> list[str]:
    """Say which filter values the report ignores (an invalid date, an unknown status)."""
    return [str(n) for n in report.check_filters(filters)] if report.check_filters else []


# Colours of a chart's series when the report gives none (distinguishable, colour-blind safe).
PALETTE = (
    "#4477aa",
    "#ee6677",
    "#228833",
    "#ccbb44",
    "#66ccee",
    "#aa3377",
    "#bbbbbb",
    "#332288",
    "#997700",
    "#44aa99",
)
PLOT_HEIGHT = 220
LEFT, TOP, BOTTOM, RIGHT = 48, 12, 72, 12


@dataclass
class ChartPart:
    """One series' part of a bar, as drawn."""

    series: str
    value: str
    color: str
    y: float
    height: float


@dataclass
class ChartBar:
    """One bar: its label, its place and its parts, bottom first."""

    label: str
    x: float
    total: str
    parts: list[ChartPart] = field(default_factory=list)


@dataclass
class ChartLayout:
    """Everything the template needs to draw a stacked bar chart in SVG."""

    title: str
    x_label: str
    series_label: str
    value_label: str
    left: float
    width: float
    height: float
    bar_width: float
    baseline: float
    label_every: int
    bars: list[ChartBar]
    legend: list[tuple[str, str]]  # (series, colour)
    ticks: list[tuple[str, float]]  # (value, y)


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _shown(value: float) -> str:
    """Write a chart figure the way people read it: 3, 2.5, 0.0125, 1200000."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _nice_step(top: float) -> float:
    """Return a round step (1, 2 or 5 times a power of ten) cutting ``top`` in about 4."""
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * power:
            return multiple * power
    return 10 * power  # pragma: no cover - the loop always returns


def chart_layout(chart: Chart, columns: Sequence[str], rows: Sequence[tuple]) -> ChartLayout | None:
    """Lay out ``chart`` over ``rows``; ``None`` when there is nothing to draw."""
    try:
        x_at, series_at, value_at = (columns.index(c) for c in (chart.x, chart.series, chart.value))
    except ValueError:
        return None
    sums: dict[str, dict[str, float]] = {}
    series: list[str] = []
    for row in rows:
        value = _number(row[value_at])
        if value is None or value <= 0:
            continue
        label, name = str(row[x_at]), str(row[series_at])
        bar = sums.setdefault(label, {})
        bar[name] = bar.get(name, 0.0) + value
        if name not in series:
            series.append(name)
    if not sums:
        return None
    # Series the report gave a colour come first, in its order; the others as they came.
    known = list(chart.colors)
    series.sort(key=lambda name: known.index(name) if name in known else len(known))
    colors = {
        name: chart.colors.get(name) or PALETTE[i % len(PALETTE)] for i, name in enumerate(series)
    }
    step = _nice_step(max(sum(bar.values()) for bar in sums.values()))
    top = step * math.ceil(max(sum(bar.values()) for bar in sums.values()) / step)
    slot = max(8.0, min(56.0, 720 / len(sums)))
    baseline = TOP + PLOT_HEIGHT
    scale = PLOT_HEIGHT / top
    bars = []
    for i, (label, values) in enumerate(sums.items()):
        bar = ChartBar(label, LEFT + i * slot + slot * 0.15, _shown(sum(values.values())))
        y = baseline
        for name in series:  # the same stacking order in every bar
            if name in values:
                height = values[name] * scale
                y -= height
                bar.parts.append(ChartPart(name, _shown(values[name]), colors[name], y, height))
        bars.append(bar)
    return ChartLayout(
        title=str(chart.title),
        x_label=chart.x,
        series_label=chart.series,
        value_label=chart.value,
        left=LEFT,
        width=LEFT + len(sums) * slot + RIGHT,
        height=baseline + BOTTOM,
        bar_width=slot * 0.7,
        baseline=baseline,
        label_every=max(1, math.ceil(14 / slot)),  # rotated labels need ~14 px each
        bars=bars,
        legend=[(name, colors[name]) for name in series],
        ticks=[
            (_shown(k * step), baseline - k * step * scale) for k in range(round(top / step) + 1)
        ],
    )


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
    shown = rows[:SHOWN_ROWS]
    return render_template(
        "reports/show.html",
        report=report,
        rows=shown,
        truncated=len(rows) > SHOWN_ROWS,
        filters=filters,
        notes=_notes(report, filters),
        chart=chart_layout(report.chart, report.columns, shown) if report.chart else None,
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
    in a spreadsheet (``host.api.csv_response``, issue 13 §7)."""
    report = _report(name)
    rows = report.rows(_scope(), _filters(report))
    return csv_response(f"{report.name}.csv", report.columns, rows)
