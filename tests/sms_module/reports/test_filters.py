"""The reports' filters (``reports.filters``): a value a report cannot use is ignored and
the page says so, contradictory dates show nothing, and no filter value makes a report fail."""

from __future__ import annotations

import pytest

from tests.sms_module.reports.support import (
    NEW_REPORTS,
    OPERATOR,
    SHOP_A_STATUS,
    csv_rows,
    notes,
    shown,
    table,
)
from tests.support_sms import login_en


@pytest.mark.parametrize(
    ("query", "note"),
    [
        ("from=2025-13-01", "The “from” date “2025-13-01” is not a date written YYYY-MM-DD"),
        ("to=yesterday", "The “to” date “yesterday” is not a date written YYYY-MM-DD"),
        ("queue=urgent", "The “queue” filter “urgent” is not one of: transactional, promotional"),
        ("to=9999-12-31", "The “to” date “9999-12-31” is out of range: it is ignored."),
        # The years of every typed date, as in forms and the API (issue 13 §4: 1900-2100).
        ("from=2101-01-01", "The “from” date “2101-01-01” is out of range: it is ignored."),
    ],
)
def test_status_report_ignores_an_invalid_filter_and_says_so(client, statuses, query, note):
    login_en(client, statuses["a"]["staff"])
    response = client.get(f"/reports/sms_status_report?{query}")
    assert response.status_code == 200
    assert len(notes(response)) == 1 and note in notes(response)[0]
    assert table(response) == shown(SHOP_A_STATUS)
    assert csv_rows(client, f"/reports/sms_status_report.csv?{query}")[1:] == SHOP_A_STATUS
    assert notes(client.get("/reports/sms_status_report?from=2025-01-05")) == []


def test_from_after_to_is_said_and_shows_nothing(client, statuses):
    login_en(client, statuses["a"]["staff"])
    response = client.get("/reports/sms_status_report?from=2025-02-01&to=2025-01-01")
    assert notes(response) == ["The “from” date is after the “to” date: no row matches."]
    assert table(response) == [["Nothing to show."]]
    assert "<svg" not in response.text  # no chart without rows


def test_message_log_ignores_unknown_filter_values_with_a_note(client, shops, log):
    login_en(client, shops["a"]["staff"])
    response = client.get(
        "/reports/sms_message_log?status=lost&direction=up&phone=abc&to=2025-02-30"
    )
    assert response.status_code == 200
    said = " ".join(notes(response))
    assert "“status” filter “lost”" in said and "“direction” filter “up”" in said
    assert "phone filter “abc” has no digit" in said and "“to” date “2025-02-30”" in said
    assert len(table(response)) == 3


BAD_QUERIES = [
    "from=x&to=y&period=fortnight&queue=1&status=%25&direction=_&phone=%25_&action=%01",
    "from=0000-00-00&to=9999-99-99",
    "from=0001-01-01&to=9999-12-31",
    "from=2025-02-29&to=2025-01-01&phone=" + "9" * 300,
    "from=%E2%80%AE&queue=&period=",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_no_report_fails_on_bad_filter_values(client, everything, query):
    login_en(client, OPERATOR)
    for name in NEW_REPORTS:
        assert client.get(f"/reports/{name}?{query}").status_code == 200, name
        assert client.get(f"/reports/{name}.csv?{query}").status_code == 200, name
