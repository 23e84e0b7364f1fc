"""The chart of a report page: a stacked bar chart in SVG, laid out here and drawn by the
template (no script, no style attribute: the CSP refuses them), from the whole report
(issue 12 point 6)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _

from host.api import Chart
from plugins.reports.cells import cell_text, heading, locale, number_text

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
    """One series' part of a bar, as drawn: ``series`` and ``value`` as the data say them
    (a code, "2.5"), ``name`` and ``text`` as people read them."""

    series: str
    value: str
    color: str
    y: float
    height: float
    name: str = ""
    text: str = ""
    title: str = ""  # what hovering it says: "5 janv. 2025 · Distribué : 3"


@dataclass
class ChartBar:
    """One bar: its ``label`` (the x value as the data say it), its ``text`` (as people
    read it), its place, its total and its parts, bottom first."""

    label: str
    x: float
    total: str
    parts: list[ChartPart] = field(default_factory=list)
    text: str = ""
    total_text: str = ""


@dataclass
class LegendEntry:
    """A series of the legend: its code, its name, its colour and its total over the whole
    report (``total`` as the data say it, ``total_text`` as people read it)."""

    series: str
    name: str
    color: str
    total: str
    total_text: str


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
    legend: list[LegendEntry]
    ticks: list[tuple[str, float]]  # (value as read, y)
    total: str = ""  # the sum of every bar, as the data say it
    total_text: str = ""  # … and as people read it


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
    """Write a chart figure as the data say it: 3, 2.5, 0.0125, 1200000."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _read(value: float) -> str:
    """Write a chart figure the reader's way (Babel): "1 234", "2,5" in French."""
    value = float(value)
    number = int(value) if value.is_integer() else Decimal(_shown(value))
    return number_text(number, locale())


def _nice_step(top: float) -> float:
    """Return a round step (1, 2 or 5 times a power of ten) cutting ``top`` in about 4."""
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * power:
            return multiple * power
    return 10 * power  # pragma: no cover - the loop always returns


def chart_layout(chart: Chart, columns: Sequence[str], rows: Iterable[tuple]) -> ChartLayout | None:
    """Lay out ``chart`` over every row of ``rows`` (the whole report, issue 12 point 6);
    ``None`` when there is nothing to draw. Bars, parts and legend say their values as the
    data do (``data-*`` attributes) and as people read them (``cell_text``)."""
    try:
        x_at, series_at, value_at = (columns.index(c) for c in (chart.x, chart.series, chart.value))
    except ValueError:
        return None
    sums: dict[str, dict[str, float]] = {}
    series: list[str] = []
    names: dict[str, str] = {}
    x_texts: dict[str, str] = {}
    for row in rows:
        value = _number(row[value_at])
        if value is None or value <= 0:
            continue
        label, name = str(row[x_at]), str(row[series_at])
        bar = sums.setdefault(label, {})
        bar[name] = bar.get(name, 0.0) + value
        if name not in series:
            series.append(name)
            names[name] = cell_text(row[series_at])
        if label not in x_texts:
            x_texts[label] = cell_text(row[x_at])
    if not sums:
        return None
    # Series the report gave a colour come first, in its order; the others as they came.
    known = list(chart.colors)
    series.sort(key=lambda name: known.index(name) if name in known else len(known))
    colors = {
        name: chart.colors.get(name) or PALETTE[i % len(PALETTE)] for i, name in enumerate(series)
    }
    highest = max(sum(bar.values()) for bar in sums.values())
    step = _nice_step(highest)
    top = step * math.ceil(highest / step)
    slot = max(8.0, min(56.0, 720 / len(sums)))
    baseline = TOP + PLOT_HEIGHT
    scale = PLOT_HEIGHT / top
    bars = []
    totals = dict.fromkeys(series, 0.0)
    titled = _("%(x)s · %(series)s: %(value)s")  # translated once, filled for each part
    for i, (label, values) in enumerate(sums.items()):
        total = sum(values.values())
        bar = ChartBar(
            label,
            LEFT + i * slot + slot * 0.15,
            _shown(total),
            text=x_texts[label],
            total_text=_read(total),
        )
        y = baseline
        for name in series:  # the same stacking order in every bar
            if name in values:
                height = values[name] * scale
                y -= height
                totals[name] += values[name]
                bar.parts.append(
                    ChartPart(
                        name,
                        _shown(values[name]),
                        colors[name],
                        y,
                        height,
                        names[name],
                        _read(values[name]),
                        titled
                        % {
                            "x": x_texts[label],
                            "series": names[name],
                            "value": _read(values[name]),
                        },
                    )
                )
        bars.append(bar)
    headings = {str(c): heading(c) for c in columns}
    grand_total = sum(totals.values())
    return ChartLayout(
        title=str(chart.title),
        x_label=headings[chart.x],
        series_label=headings[chart.series],
        value_label=headings[chart.value],
        left=LEFT,
        width=LEFT + len(sums) * slot + RIGHT,
        height=baseline + BOTTOM,
        bar_width=slot * 0.7,
        baseline=baseline,
        label_every=max(1, math.ceil(14 / slot)),  # rotated labels need ~14 px each
        bars=bars,
        legend=[
            LegendEntry(name, names[name], colors[name], _shown(totals[name]), _read(totals[name]))
            for name in series
        ],
        ticks=[
            (_read(k * step), baseline - k * step * scale) for k in range(round(top / step) + 1)
        ],
        total=_shown(grand_total),
        total_text=_read(grand_total),
    )
