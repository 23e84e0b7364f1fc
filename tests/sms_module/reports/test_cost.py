"""The segments and cost report (``reports.cost``): every attempt charged, by month or day,
shop and queue (PRODUCT.md §8)."""

from __future__ import annotations

from tests.sms_module.reports.support import OPERATOR, csv_rows, notes, report, shown, table
from tests.support_sms import login_en

COST_A = [
    ["2025-01", "Garage A", "promotional", "1", "2", "6", "0.04980", "CAD"],
    ["2025-01", "Garage A", "transactional", "2", "4", "5", "0.04150", "CAD"],
    ["2025-02", "Garage A", "transactional", "1", "1", "1", "0.00830", "CAD"],
]
COST_B = ["2025-01", "Garage B", "transactional", "1", "2", "2", "0.01660", "CAD"]


def test_cost_report_charges_every_attempt_by_month_shop_and_queue(client, costs):
    login_en(client, costs["a"]["staff"])
    page, exported = report(client, "/reports/sms_cost")
    assert exported == COST_A
    assert page == shown(COST_A)
    assert page[0] == [
        "January 2025",
        "Garage A",
        "Promotional",
        "1",
        "2",
        "6",
        "$0.0498",  # finer than a cent: never rounded to $0.05
        "CAD",
    ]
    assert csv_rows(client, "/reports/sms_cost.csv")[0] == [
        "period",
        "shop",
        "queue",
        "messages",
        "attempts",
        "segments_charged",
        "cost",
        "currency",
    ]


def test_cost_report_by_day_and_dates(client, costs):
    login_en(client, costs["a"]["staff"])
    page, exported = report(client, "/reports/sms_cost?period=day&to=2025-01-31")
    assert exported == [
        ["2025-01-05", *COST_A[0][1:]],
        ["2025-01-05", *COST_A[1][1:]],
    ]
    assert page == shown(exported)
    page, exported = report(client, "/reports/sms_cost?from=2025-02-01")
    assert exported == COST_A[2:] and page == shown(exported)
    response = client.get("/reports/sms_cost?period=week")
    assert "“period” filter “week” is not one of: day, month" in notes(response)[0]
    assert table(response) == shown(COST_A)  # the month, by default


def test_operator_cost_report_has_a_row_per_shop(client, costs):
    login_en(client, OPERATOR)
    page, exported = report(client, "/reports/sms_cost")
    assert exported == [COST_A[0], COST_A[1], COST_B, COST_A[2]]
    assert page == shown(exported)
