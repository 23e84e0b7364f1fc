"""The message log (``reports.log``): the shop's messages newest first, its filters, and
each message's detail page with its whole status history, never another shop's."""

from __future__ import annotations

import re

import pytest

from plugins.sms_module.reports import NO_REPORT
from tests.sms_module.reports.support import OPERATOR, PHONES, report, table
from tests.support_pages import page_text
from tests.support_sms import login_en

FAILED_ROW = [
    "2025-01-05T10:00:00-05:00",
    "Client A",
    PHONES["a"],
    "outbound",
    "reminder",
    "transactional",
    "failed",
    "2",
    "3",
    "0.04980",
    "CAD",
    "30003",
    "Unreachable destination handset",
    "+14386013562",
    "Garage A",
]


def log_rows(log) -> dict[str, list[str]]:
    return {
        "inbound": [
            str(log["inbound"]),
            "2025-01-05T12:00:00-05:00",
            "Client A",
            PHONES["a"],
            "inbound",
            "inbound",
            "transactional",
            "received",
            "1",
            "0",
            "0.00000",
            "CAD",
            "",
            "",
            "",
            "Garage A",
        ],
        "stale": [
            str(log["stale"]),
            "2025-01-05T11:00:00-05:00",
            "Client A",
            PHONES["a"],
            "outbound",
            "manual",
            "promotional",
            NO_REPORT,
            "1",
            "1",
            "0.00830",
            "CAD",
            "",
            "",
            "+14386013562",
            "Garage A",
        ],
        "failed": [str(log["failed"]), *FAILED_ROW],
    }


def test_message_log_lists_the_shops_messages_newest_first(client, shops, log):
    login_en(client, shops["a"]["staff"])
    page, exported = report(client, "/reports/sms_message_log")
    expected = log_rows(log)
    assert page == exported == [expected["inbound"], expected["stale"], expected["failed"]]
    body = client.get("/reports/sms_message_log").text
    assert f'<a href="/reports/sms_message_log/{log["failed"]}">{log["failed"]}</a>' in body
    assert f"/reports/sms_message_log/{log['b']}" not in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", ["failed"]),
        ("status=sent", ["stale"]),
        ("direction=inbound", ["inbound"]),
        ("queue=promotional", ["stale"]),
        ("phone=514 555 0101", ["inbound", "stale", "failed"]),
        ("phone=416", []),
        ("from=2025-01-06", []),
        ("to=2025-01-05&from=2025-01-05", ["inbound", "stale", "failed"]),
        ("to=2025-01-04", []),
        ("direction=outbound&queue=transactional", ["failed"]),
    ],
)
def test_message_log_filters(client, shops, log, query, expected):
    login_en(client, shops["a"]["staff"])
    page, exported = report(client, f"/reports/sms_message_log?{query}")
    rows = log_rows(log)
    assert exported == [rows[k] for k in expected]
    assert page == ([rows[k] for k in expected] or [["Nothing to show."]])


def test_message_detail_shows_its_fields_and_whole_status_history(client, shops, log):
    login_en(client, shops["a"]["staff"])
    response = client.get(f"/reports/sms_message_log/{log['failed']}")
    assert response.status_code == 200
    cells = table(response, -1)
    fields = dict(re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', page_text(response)))
    assert fields["Status"] == "Failed"
    assert fields["Attempts"] == "3" and fields["Segments"] == "2"
    assert fields["Price per attempt"] == "0.01660" and fields["Cost"] == "0.04980"
    assert fields["Failure code"] == "30003"
    assert fields["Failure reason"] == "Unreachable destination handset"
    assert fields["Customer"] == "Client A" and fields["Shop"] == "Garage A"
    assert fields["Created"] == "2025-01-05T10:00:00-05:00"
    assert cells == [
        ["2025-01-05T10:00:00-05:00", "Scheduled", "module", ""],
        ["2025-01-05T10:00:05-05:00", "Queued", "module", ""],
        ["2025-01-05T10:00:06-05:00", "Sending", "module", "attempt 1"],
        ["2025-01-05T10:01:06-05:00", "Sending", "module", "attempt 2"],
        ["2025-01-05T10:03:06-05:00", "Sending", "module", "attempt 3"],
        ["2025-01-05T10:03:10-05:00", "Failed", "provider_callback", "30003 Unreachable"],
    ]
    stale = page_text(client.get(f"/reports/sms_message_log/{log['stale']}"))
    assert "Sent — no delivery report" in stale and "Nothing to show." in stale


def test_message_detail_of_another_shop_is_404(client, shops, log):
    login_en(client, shops["a"]["admin"])
    response = client.get(f"/reports/sms_message_log/{log['b']}")
    assert response.status_code == 404
    assert "Garage B" not in response.text and PHONES["b"] not in response.text
    assert client.get("/reports/sms_message_log/999999").status_code == 404
    # A report without details has no detail pages.
    assert client.get(f"/reports/legacy_sent_sms_log/{shops['a']['legacy']}").status_code == 404
    assert client.get(f"/reports/no_such_report/{log['failed']}").status_code == 404


def test_operator_sees_every_shops_messages_and_details(client, shops, log):
    login_en(client, OPERATOR)
    page, exported = report(client, "/reports/sms_message_log")
    assert [r[0] for r in exported] == [str(log[k]) for k in ("inbound", "stale", "b", "failed")]
    assert exported[3][1:] == [
        FAILED_ROW[0].replace("10:00:00-05:00", "15:00:00+00:00"),
        *FAILED_ROW[1:],
    ]
    assert exported[2][-1] == "Garage B"
    response = client.get(f"/reports/sms_message_log/{log['b']}")
    assert response.status_code == 200 and "Garage B secret" in response.text
