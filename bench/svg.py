"""Tiny hand-written SVG charts for the benchmark report: lines (x numeric, log scale when the
x values span two decades or more, as report time against 10k/100k/1M) and bars."""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 70, 240, 40, 50
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _frame(title: str, body: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">'
    )
    return "\n".join(
        [
            head,
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
            f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">'
            f"{escape(title)}</text>",
            *body,
            "</svg>",
            "",
        ]
    )


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    step = 10 ** math.floor(math.log10((high - low) / count))
    for factor in (1, 2, 5, 10):
        if (high - low) / (step * factor) <= count:
            step *= factor
            break
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _label(value: float) -> str:
    if value and (abs(value) >= 1e6 or abs(value) < 1e-2):
        return f"{value:.0e}" if abs(value) < 1e-2 else f"{value / 1e6:g}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def lines(title: str, xlabel: str, ylabel: str, series: dict[str, list]) -> str:
    """Return an SVG line chart of ``series`` (name → [[x, y], ...], x and y numbers)."""
    points = {n: [(float(x), float(y)) for x, y in pts] for n, pts in series.items() if pts}
    xs = [x for pts in points.values() for x, _ in pts] or [0.0, 1.0]
    ys = [y for pts in points.values() for _, y in pts] or [0.0, 1.0]
    log_x = min(xs) > 0 and max(xs) / min(xs) >= 100
    fx = math.log10 if log_x else (lambda v: v)
    x0, x1 = fx(min(xs)), fx(max(xs))
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = max(ys) * 1.1 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (fx(x) - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - y / y1 * plot_h

    body = _axes(xlabel, ylabel, y1, py)
    xticks = sorted(set(xs)) if log_x else _ticks(min(xs), max(xs))
    for x in xticks[:12]:
        body.append(
            f'<text x="{px(x):.1f}" y="{TOP + plot_h + 15}" text-anchor="middle">{_label(x)}</text>'
        )
    for i, (name, pts) in enumerate(points.items()):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in sorted(pts))
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>')
        if len(pts) <= 12:
            body += [
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{colour}"/>'
                for x, y in pts
            ]
        body += _legend(i, name, colour)
    return _frame(title, body)


def bars(title: str, ylabel: str, values: list[tuple[str, float]]) -> str:
    """Return an SVG bar chart of ``values`` ([(label, number), ...])."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    y1 = max((v for _, v in values), default=1.0) * 1.1 or 1.0

    def py(y: float) -> float:
        return TOP + plot_h - y / y1 * plot_h

    body = _axes("", ylabel, y1, py)
    slot = plot_w / max(1, len(values))
    for i, (label, value) in enumerate(values):
        colour = COLOURS[i % len(COLOURS)]
        x = LEFT + i * slot + slot * 0.15
        body.append(
            f'<rect x="{x:.1f}" y="{py(value):.1f}" width="{slot * 0.7:.1f}" '
            f'height="{TOP + plot_h - py(value):.1f}" fill="{colour}"/>'
        )
        body.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{py(value) - 4:.1f}" text-anchor="middle">'
            f"{value:.4g}</text>"
        )
        body += _legend(i, label, colour)
    return _frame(title, body)


def _axes(xlabel: str, ylabel: str, y1: float, py) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = [
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="black"/>',
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 12}" text-anchor="middle">'
        f"{escape(xlabel)}</text>",
        f'<text x="16" y="{TOP + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {TOP + plot_h / 2})">{escape(ylabel)}</text>',
    ]
    for y in _ticks(0, y1 / 1.1):
        body.append(
            f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{_label(y)}</text>'
        )
        body.append(
            f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{WIDTH - RIGHT}" y2="{py(y):.1f}" '
            'stroke="#ddd"/>'
        )
    return body


def _legend(i: int, name: str, colour: str) -> list[str]:
    y = TOP + 14 * i
    return [
        f'<rect x="{WIDTH - RIGHT + 10}" y="{y}" width="10" height="10" fill="{colour}"/>',
        f'<text x="{WIDTH - RIGHT + 24}" y="{y + 9}">{escape(str(name)[:36])}</text>',
    ]
