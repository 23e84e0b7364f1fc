"""Refusals are not failures (issue 11, point 5): a message a rule refused before the carrier
had it keeps its Failed row, but every report shows and counts it as *refused*, apart from
the carrier's outcomes: the status report counts it on its own, the delivery rate is over
what the carrier was handed, the error codes are the carrier's, the log says "refused"."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale

from plugins.sms_module.models.statuses import Status
from plugins.sms_module.texts.reasons import failure_text, history_text
from tests.sms_module.reports.support import OPERATOR, T0, add_message, report, table
from tests.support_pages import page_text
from tests.support_sms import login_en

S = Status


@pytest.fixture
def refusals(app, shops):
    """Shop A's day: two deliveries, two carrier failures, three refusals, one cancel."""

    def refused(code: str, hours: int, detail: str) -> int:
        return add_message(
            shops,
            "a",
            status=S.FAILED,
            created=T0 + timedelta(hours=hours),
            attempts=0,
            sender=None,
            code=code,
            reason=f"Refused: {code}",
            steps=((S.FAILED, 0, "staff", detail),),
        )

    with app.app_context():
        ids = {
            "delivered": add_message(shops, "a", status=S.DELIVERED),
            "delivered2": add_message(shops, "a", status=S.DELIVERED),
            "carrier": add_message(
                shops,
                "a",
                status=S.FAILED,
                created=T0 + timedelta(hours=1),
                code="30003",
                reason="Unreachable destination handset",
                steps=((S.SENDING, 0, "module", None), (S.FAILED, 5, "provider_callback", None)),
            ),
            "carrier_no_code": add_message(
                shops,
                "a",
                status=S.FAILED,
                created=T0 + timedelta(hours=2),
                code="carrier_error",
                reason="The carrier refused it",
            ),
            # Refused at acceptance, and just before the carrier call.
            "no_consent": refused("no_consent", 3, "refused: no_consent"),
            "opted_out": refused("opted_out", 4, "refused before sending: opted_out"),
            "module_off": refused("module_off", 5, "refused: module_off"),
            "canceled": add_message(shops, "a", status=S.CANCELED, attempts=0),
        }
    return ids


def test_the_status_report_counts_refusals_apart_from_failures(client, shops, refusals):
    login_en(client, shops["a"]["staff"])
    page, exported = report(client, "/reports/sms_status_report")
    assert exported == [
        ["2025-01-05", "transactional", "delivered", "2"],
        ["2025-01-05", "transactional", "failed", "2"],
        ["2025-01-05", "transactional", "refused", "3"],
        ["2025-01-05", "transactional", "canceled", "1"],
    ]
    assert [row[2] for row in page] == ["Delivered", "Failed", "Refused", "Canceled"]
    svg = page_text(client.get("/reports/sms_status_report"))
    parts = re.findall(r'data-series="([^"]+)" data-value="([^"]+)"', svg)
    assert ("refused", "3") in parts and ("failed", "2") in parts


def test_the_delivery_rate_is_over_the_messages_the_carrier_was_handed(client, shops, refusals):
    login_en(client, shops["a"]["staff"])
    page, exported = report(client, "/reports/sms_delivery")
    # 2 delivered of the 4 the carrier had; the 3 refused and the canceled one are not there.
    assert exported == [["2025-01", "4", "2", "0", "2", "50.0", "", ""]]
    assert page == [["January 2025", "4", "2", "0", "2", "50%", "", ""]]


def test_the_error_codes_report_lists_only_the_carriers_codes(app, client, shops, refusals):
    login_en(client, shops["a"]["staff"])
    page, exported = report(client, "/reports/sms_error_codes")
    assert [row[:2] for row in exported] == [["30003", "1"], ["carrier_error", "1"]]
    with app.test_request_context(), force_locale("en"):
        meanings = [f"30003 · {failure_text('30003')}", failure_text("carrier_error")]
    assert [row[0] for row in page] == meanings  # a rule's code by its meaning only
    login_en(client, OPERATOR)
    _page, exported = report(client, "/reports/sms_error_codes")
    assert {row[0] for row in exported} == {"30003", "carrier_error"}


def test_the_message_log_shows_and_filters_refusals(client, shops, refusals):
    login_en(client, shops["a"]["staff"])
    _page, exported = report(client, "/reports/sms_message_log")
    status = {int(row[0]): row[7] for row in exported}
    assert {status[refusals[k]] for k in ("no_consent", "opted_out", "module_off")} == {"refused"}
    assert status[refusals["carrier"]] == status[refusals["carrier_no_code"]] == "failed"
    _page, exported = report(client, "/reports/sms_message_log?status=refused")
    assert [int(r[0]) for r in exported] == [refusals[k] for k in ("module_off", "opted_out")] + [
        refusals["no_consent"]
    ]
    _page, exported = report(client, "/reports/sms_message_log?status=failed")
    assert [int(r[0]) for r in exported] == [refusals["carrier_no_code"], refusals["carrier"]]
    page = client.get("/reports/sms_message_log")
    assert '<option value="refused">Refused</option>' in page.text  # the filter offers it


def test_a_refusals_detail_says_refused_with_its_rule(app, client, shops, refusals):
    login_en(client, shops["a"]["staff"])
    response = client.get(f"/reports/sms_message_log/{refusals['opted_out']}")
    fields = dict(re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', page_text(response)))
    assert fields["Status"] == "Refused"
    with app.test_request_context(), force_locale("en"):
        rule = failure_text("opted_out")
        detail = history_text("staff", "refused before sending: opted_out")
    assert fields["Failure code"] == html.escape(rule)
    assert table(response, -1) == [["Jan 5, 2025, 2:00\u202fp.m.", "Refused", "Staff", detail]]
    carrier = client.get(f"/reports/sms_message_log/{refusals['carrier']}")
    fields = dict(re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', page_text(carrier)))
    assert fields["Status"] == "Failed"
    assert [row[1] for row in table(carrier, -1)] == ["Sending", "Failed"]


def test_a_failure_without_code_is_still_a_failure(client, shops, app):
    # The refusal test is never NULL in SQL: a Failed message without code stays counted.
    with app.app_context():
        add_message(shops, "a", status=S.FAILED, code=None)
    login_en(client, shops["a"]["staff"])
    _page, exported = report(client, "/reports/sms_delivery")
    assert exported == [["2025-01", "1", "0", "0", "1", "0.0", "", ""]]
    _page, exported = report(client, "/reports/sms_status_report")
    assert exported == [["2025-01-05", "transactional", "failed", "1"]]
