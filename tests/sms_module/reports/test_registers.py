"""The opt-out register (``reports.registers``): a shop sees its own events and those of its
customers' phones without another shop's name; the operator sees every event."""

from __future__ import annotations

from tests.sms_module.reports.support import OPERATOR, PHONES, notes, report, shown, table
from tests.support_sms import login_en

OPT_A = [
    ["2025-01-05T12:00:00-05:00", PHONES["a"], "opt_out", "provider_error", "", "platform"],
    ["2025-01-05T11:00:00-05:00", PHONES["a"], "opt_in", "sms_keyword", "START", "another shop"],
    ["2025-01-05T10:00:00-05:00", PHONES["a"], "opt_out", "sms_keyword", "STOP", "Garage A"],
]


def test_opt_out_register_shows_the_shops_events_and_its_customers_phones(client, opt_outs):
    login_en(client, opt_outs["a"]["staff"])
    page, exported = report(client, "/reports/sms_opt_out_register")
    assert exported == OPT_A
    assert page == [
        ["Jan 5, 2025, 12:00\u202fp.m.", PHONES["a"], "Opt-out", "Carrier's error", "", "platform"],
        ["Jan 5, 2025, 11:00\u202fa.m.", *shown(OPT_A)[1][1:]],
        ["Jan 5, 2025, 10:00\u202fa.m.", *shown(OPT_A)[2][1:]],
    ]
    assert page[2][2:4] == ["Opt-out", "Keyword texted by the customer"]
    body = client.get("/reports/sms_opt_out_register").text
    assert "Garage B" not in body and PHONES["b"] not in body and "9999" not in body


def test_opt_out_register_filters(client, opt_outs):
    login_en(client, opt_outs["a"]["staff"])
    _page, exported = report(client, "/reports/sms_opt_out_register?action=opt_in")
    assert exported == OPT_A[1:2]
    _page, exported = report(client, "/reports/sms_opt_out_register?from=2025-01-06")
    assert exported == []
    response = client.get("/reports/sms_opt_out_register?action=maybe")
    assert "“action” filter “maybe” is not one of: opt-out, opt-in" in notes(response)[0]
    assert [row[1:] for row in table(response)] == [row[1:] for row in shown(OPT_A)]


def test_operator_opt_out_register_shows_every_event_with_its_shop(client, opt_outs):
    login_en(client, OPERATOR)
    _page, exported = report(client, "/reports/sms_opt_out_register?phone=%2B1514555")
    assert [(r[1], r[4], r[5]) for r in exported] == [
        ("+15145559999", "STOPALL", "platform"),
        (PHONES["a"], "", "platform"),
        (PHONES["a"], "START", "Garage B"),
        (PHONES["a"], "STOP", "Garage A"),
    ]
    assert exported[0][0] == "2025-01-05T19:00:00+00:00"


def test_consent_register_gives_the_day_consent_was_obtained_as_the_customer_page_does(
    client, app, shops
):
    """A consent given on a day typed on the form reads that day in the register, as on the
    customer's page, not the moment of the stored instant in shop time (the day before in
    Montreal); the CSV keeps its ISO 8601 text."""
    from tests.support_sms import give_consent

    with app.app_context():
        give_consent(shops["a"]["customer"])  # obtained 2026-01-05 (stored 00:00 UTC)
    login_en(client, shops["a"]["admin"])
    page, exported = report(client, "/reports/sms_consent_register")
    [row] = [r for r in page if "Jan 5, 2026" in r]
    assert "Jan 4, 2026" not in " ".join(row)
    assert any(cell.startswith("2026-01-05T00:00:00") for cell in exported[0])
