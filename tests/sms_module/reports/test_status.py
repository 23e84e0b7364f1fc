"""The status report (``reports.status``): outbound messages by day, queue and status, in
the shop's days or the operator's UTC days, its chart, and its date and queue filters."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from host.extension_points import Chart
from plugins.reports.chart import chart_layout
from plugins.sms_module.reports import NO_REPORT
from tests.sms_module.reports.support import OPERATOR, SHOP_A_STATUS, csv_rows, report, shown
from tests.support_pages import page_text
from tests.support_sms import login_en


def test_status_report_counts_outbound_messages_by_shop_day_queue_and_status(client, statuses):
    login_en(client, statuses["a"]["staff"])
    page, exported = report(client, "/reports/sms_status_report")
    assert page == shown(SHOP_A_STATUS)  # labels, days the reader's way (issue 12 point 1)
    assert page[0] == ["Jan 5, 2025", "Promotional", "Delivered", "1"]
    assert exported == SHOP_A_STATUS  # the CSV keeps its codes and ISO days
    assert csv_rows(client, "/reports/sms_status_report.csv")[0] == [
        "day",
        "queue",
        "status",
        "messages",
    ]


def test_operator_status_report_counts_every_shop_in_utc_days(client, statuses):
    login_en(client, OPERATOR)
    page, exported = report(client, "/reports/sms_status_report")
    assert page == shown(exported)
    assert exported == [
        ["2025-01-05", "promotional", "delivered", "1"],
        ["2025-01-05", "transactional", "delivered", "3"],  # two of A's, B's
        ["2025-01-05", "transactional", "failed", "1"],
        ["2025-01-06", "transactional", "delivered", "1"],
        ["2025-01-07", "transactional", "sent", "1"],
        ["2025-01-07", "transactional", NO_REPORT, "1"],
    ]


def test_status_report_draws_a_stacked_bar_per_day(client, statuses):
    login_en(client, statuses["a"]["admin"])
    body = page_text(client.get("/reports/sms_status_report"))
    svg = re.search(r"<svg[^>]*role=\"img\".*?</svg>", body, re.S).group(0)
    assert 'aria-labelledby="chart-title chart-desc"' in svg
    assert '<title id="chart-title">Outbound messages by day and status</title>' in svg
    assert '<desc id="chart-desc">Stacked bars: Messages by Day and Status.</desc>' in svg
    bars = dict(re.findall(r'<g class="bar" data-x="([^"]+)" data-total="([^"]+)"', svg))
    assert bars == {"2025-01-05": "5", "2025-01-07": "2"}
    parts = re.findall(r'data-series="([^"]+)" data-value="([^"]+)"', svg)
    # Bottom to top, in the life of a message; a day's queues add up.
    assert parts == [
        ("delivered", "4"),
        ("failed", "1"),
        ("sent", "1"),
        (NO_REPORT, "1"),
    ]
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"\s', svg)]
    assert heights[0] == pytest.approx(4 * heights[1], rel=0.01)  # the bars are to scale
    legend = re.search(r'<ul class="chart-legend".*?</ul>', body, re.S).group(0)
    assert [s.strip() for s in re.findall(r"</svg>([^<]+)</li>", legend)] == [
        "Sent (1)",
        "Sent — no delivery report (1)",
        "Delivered (4)",
        "Failed (1)",
    ]
    assert re.findall(r'<li data-series="([^"]+)" data-total="(\d+)"', legend) == [
        ("sent", "1"),
        (NO_REPORT, "1"),
        ("delivered", "4"),
        ("failed", "1"),
    ]
    assert '<p class="chart-total" data-total="7">Total: 7</p>' in body
    assert '<text font-size="11" fill="#1d2330"' in svg and ">Jan 5, 2025</text>" in svg


def test_status_report_filters_by_dates_and_queue(client, statuses):
    login_en(client, statuses["a"]["staff"])
    rows, exported = report(client, "/reports/sms_status_report?from=2025-01-06")
    assert exported == SHOP_A_STATUS[3:] and rows == shown(exported)
    rows, exported = report(client, "/reports/sms_status_report?from=2025-01-05&to=2025-01-05")
    assert exported == SHOP_A_STATUS[:3] and rows == shown(exported)
    rows, exported = report(client, "/reports/sms_status_report?queue=promotional")
    assert exported == SHOP_A_STATUS[:1] and rows == shown(exported)
    page = client.get("/reports/sms_status_report?queue=promotional&from=2025-01-05")
    assert '<option value="promotional" selected>Promotional</option>' in page.text
    assert '<input type="date" name="from" value="2025-01-05">' in page.text  # point 2
    assert "<label>From" in page.text and "<label>Queue" in page.text
    assert (
        'href="/reports/sms_status_report.csv?from=2025-01-05&amp;to=&amp;queue=promotional"'
        in page.text
    )


# --- Chart layout (any report may declare one; the status report's chart uses it) ---------


def test_chart_layout_stacks_series_and_skips_what_it_cannot_draw(app):
    chart = Chart(x="week", series="kind", value="n", colors={"b": "#000000"})
    rows = [("w1", "a", 2), ("w1", "b", 3), ("w2", "a", Decimal("1.5")), ("w2", "c", "n/a")]
    with app.test_request_context():
        layout = chart_layout(chart, ("week", "kind", "n"), rows)
    assert [(b.label, b.total) for b in layout.bars] == [("w1", "5"), ("w2", "1.5")]
    assert [(p.series, p.value) for p in layout.bars[0].parts] == [("b", "3"), ("a", "2")]
    first = layout.legend[0]
    assert (first.series, first.color, first.total) == ("b", "#000000", "3")  # its colour first
    assert [(e.series, e.total) for e in layout.legend] == [("b", "3"), ("a", "3.5")]
    assert layout.total == "6.5"
    assert [t for t, _ in layout.ticks] == ["0", "2", "4", "6"]
    with app.test_request_context():
        assert chart_layout(chart, ("week", "other", "n"), rows) is None
        assert chart_layout(chart, ("week", "kind", "n"), []) is None
