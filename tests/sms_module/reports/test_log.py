"""The message log (``reports.log``): the shop's messages newest first, its filters, and
each message's detail page with its whole status history, never another shop's."""

from __future__ import annotations

import html
import re

import pytest
from flask_babel import force_locale

from plugins.sms_module.reports import NO_REPORT
from plugins.sms_module.texts.reasons import failure_text
from tests.sms_module.reports.support import OPERATOR, PHONES, report, shown, table
from tests.support_pages import page_text
from tests.support_sms import login_en

FAILED_ROW = [
    "2025-01-05T10:00:00-05:00",
    "Client A",
    PHONES["a"],
    "outbound",
    "appointment_reminder",
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


# The English page's times of the log fixture (shop A, America/Toronto).
TIMES = {
    "2025-01-05T10:00:00-05:00": "Jan 5, 2025, 10:00\u202fa.m.",
    "2025-01-05T11:00:00-05:00": "Jan 5, 2025, 11:00\u202fa.m.",
    "2025-01-05T12:00:00-05:00": "Jan 5, 2025, 12:00\u202fp.m.",
}
TEXTS = {"inbound": "Merci", "stale": "Hello", "failed": "Hello"}


def page_rows(app, log, keys) -> list[list[str]]:
    """The English page's rows of the log fixture: labels, shop times, the message's text
    after the phone (page only), the failure code with its meaning (issue 12 points 1, 6)."""
    with app.test_request_context(), force_locale("en"):
        meaning = failure_text("30003")
        reason = failure_text("30003", "Unreachable destination handset")
    more = {
        **TIMES,
        "30003": f"30003 · {meaning}",
        "Unreachable destination handset": reason,
        "inbound": "Customer's text",  # the kind; the direction is set below
    }
    rows = []
    for key in keys:
        csv_row = log_rows(log)[key]
        row = shown([csv_row], **more)[0]
        row[4] = shown([[csv_row[4]]])[0][0]  # the direction
        rows.append([*row[:4], TEXTS[key], *row[4:]])
    return rows


def test_message_log_lists_the_shops_messages_newest_first(app, client, shops, log):
    login_en(client, shops["a"]["staff"])
    page, exported = report(client, "/reports/sms_message_log")
    expected = log_rows(log)
    assert exported == [expected["inbound"], expected["stale"], expected["failed"]]
    assert page == page_rows(app, log, ["inbound", "stale", "failed"])
    assert page[1][1:10] == [
        "Jan 5, 2025, 11:00\u202fa.m.",
        "Client A",
        PHONES["a"],
        "Hello",
        "Sent to the customer",
        "Written by staff",
        "Promotional",
        "Sent — no delivery report",
        "1",
    ]
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
def test_message_log_filters(app, client, shops, log, query, expected):
    login_en(client, shops["a"]["staff"])
    page, exported = report(client, f"/reports/sms_message_log?{query}")
    rows = log_rows(log)
    assert exported == [rows[k] for k in expected]
    assert page == (page_rows(app, log, expected) or [["Nothing to show."]])


@pytest.mark.parametrize("name", ["sms_message_log", "sms_opt_out_register"])
def test_the_phone_filter_says_it_matches_the_beginning(client, shops, log, name):
    """The filter reads an index range from the number's beginning: typing the last digits
    finds nothing, so the field says what to type, in the reader's language."""
    login_en(client, shops["a"]["staff"])
    assert (
        'name="phone" value="" placeholder="Its beginning: 514 555"'
        in client.get(f"/reports/{name}").text
    )
    client.get("/language/fr")
    assert 'placeholder="Son début : 514 555"' in client.get(f"/reports/{name}").text


def test_message_detail_shows_its_fields_and_whole_status_history(app, client, shops, log):
    login_en(client, shops["a"]["staff"])
    response = client.get(f"/reports/sms_message_log/{log['failed']}")
    assert response.status_code == 200
    cells = table(response, -1)
    fields = dict(re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', page_text(response)))
    with app.test_request_context(), force_locale("en"):
        meaning = failure_text("30003")
        reason = failure_text("30003", "Unreachable destination handset")
    assert fields["Status"] == "Failed"
    assert fields["Direction"] == "Sent to the customer"
    assert fields["Kind"] == "Appointment reminder" and fields["Queue"] == "Transactional"
    assert fields["Attempts"] == "3" and fields["Segments"] == "2"
    assert fields["Price per attempt"] == "$0.0166" and fields["Cost"] == "$0.0498"
    assert fields["Failure code"] == html.escape(f"30003 · {meaning}")
    assert fields["Failure reason"] == html.escape(reason)
    assert fields["Customer"] == "Client A" and fields["Shop"] == "Garage A"
    assert fields["Created"] == "Jan 5, 2025, 10:00\u202fa.m."  # the shop's time, no ISO
    assert cells == [
        ["Jan 5, 2025, 10:00\u202fa.m.", "Scheduled", "SMS module", ""],
        ["Jan 5, 2025, 10:00\u202fa.m.", "Queued", "SMS module", ""],
        ["Jan 5, 2025, 10:00\u202fa.m.", "Sending", "SMS module", "attempt 1"],
        ["Jan 5, 2025, 10:01\u202fa.m.", "Sending", "SMS module", "attempt 2"],
        ["Jan 5, 2025, 10:03\u202fa.m.", "Sending", "SMS module", "attempt 3"],
        ["Jan 5, 2025, 10:03\u202fa.m.", "Failed", "Carrier's report", "30003 Unreachable"],
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
