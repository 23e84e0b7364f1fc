"""Delivery performance and error codes (``reports.delivery``): outcomes, delivery rate and
time to delivery by period, and the failures counted by the carrier's code."""

from __future__ import annotations

from flask_babel import force_locale

from plugins.sms_module.texts.reasons import failure_text
from tests.sms_module.reports.support import OPERATOR, report, shown
from tests.support_sms import login_en


def test_delivery_report_rates_and_times_deliveries(client, deliveries):
    login_en(client, deliveries["a"]["staff"])
    page, exported = report(client, "/reports/sms_delivery")
    # January: times 10, 30, 50, 20 s; median of 10 20 30 50 = 25, 90th percentile = 44.
    assert exported == [
        ["2025-01", "7", "4", "1", "2", "57.1", "25.0", "44.0"],
        ["2025-02", "1", "0", "0", "1", "0.0", "", ""],
    ]
    assert page == [
        ["January 2025", "7", "4", "1", "2", "57.1%", "25.0 s", "44.0 s"],
        ["February 2025", "1", "0", "0", "1", "0%", "", ""],
    ]
    page, exported = report(client, "/reports/sms_delivery?period=day&to=2025-01-31")
    assert exported == [["2025-01-05", "7", "4", "1", "2", "57.1", "25.0", "44.0"]]
    assert page == [["Jan 5, 2025", "7", "4", "1", "2", "57.1%", "25.0 s", "44.0 s"]]
    page, exported = report(client, "/reports/sms_delivery?queue=promotional")
    assert exported == [] and page == [["Nothing to show."]]


def test_operator_delivery_report_counts_every_shop(client, deliveries):
    login_en(client, OPERATOR)
    _page, exported = report(client, "/reports/sms_delivery")
    # 10 20 30 50 1000: median 30, 90th percentile = 50 + 0.6 × 950.
    assert exported[0] == ["2025-01", "9", "5", "1", "3", "55.6", "30.0", "620.0"]


def test_error_codes_report_counts_failures_by_code(app, client, deliveries):
    login_en(client, deliveries["a"]["staff"])
    page, exported = report(client, "/reports/sms_error_codes")
    assert exported == [
        ["30003", "2", "2025-01-05T13:00:07-05:00", "Unreachable destination handset"],
        ["30005", "1", "2025-01-05T10:00:30-05:00", "Unknown destination handset"],
        ["none", "1", "2025-02-03T07:00:00-05:00", ""],  # no history: its last change
    ]
    # The page: each code with its meaning, the reason in the reader's language (point 1).
    with app.test_request_context(), force_locale("en"):
        meaning = {code: failure_text(code) for code in ("30003", "30005")}
        reason = {
            "30003": failure_text("30003", "Unreachable destination handset"),
            "30005": failure_text("30005", "Unknown destination handset"),
        }
    assert page == [
        [f"30003 · {meaning['30003']}", "2", "Jan 5, 2025, 1:00\u202fp.m.", reason["30003"]],
        [f"30005 · {meaning['30005']}", "1", "Jan 5, 2025, 10:00\u202fa.m.", reason["30005"]],
        ["No code", "1", "Feb 3, 2025, 7:00\u202fa.m.", ""],
    ]
    assert shown(exported) != page  # not the codes
    _page, exported = report(client, "/reports/sms_error_codes?to=2025-01-31&queue=transactional")
    assert [r[0] for r in exported] == ["30003", "30005"]
    login_en(client, OPERATOR)
    _page, exported = report(client, "/reports/sms_error_codes")
    assert ["30007", "1", "2025-01-05T15:00:00+00:00", "Carrier violation"] in exported
