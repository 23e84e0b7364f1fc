"""Reports a shop owner reads (issue 12, point 6): the chart and the counts over the whole
report, not the rows shown; the operator's shop filter; the message's text in the log,
shortened, and whole on its detail page; the CSV keeping its codes and ISO times."""

from __future__ import annotations

import re
from datetime import timedelta

from plugins.reports import views
from plugins.sms_module.models.statuses import Status
from tests.reports_scale.support import many_messages
from tests.sms_module.reports.support import OPERATOR, T0, add_message, csv_rows, table
from tests.support_pages import page_text
from tests.support_sms import login_en

DAYS = 600  # more rows than the page shows (views.SHOWN_ROWS = 500)


def many_days(shops) -> None:
    """Store one delivered message a day for DAYS days in shop A, in one statement."""

    def day(n: int):
        return T0 + timedelta(days=n)

    many_messages(shops, "a", DAYS, body="Hello", created_at=day, updated_at=day)


def test_the_chart_and_the_count_are_over_the_whole_report(app, client, shops):
    with app.app_context():
        many_days(shops)
    login_en(client, shops["a"]["staff"])
    body = page_text(client.get("/reports/sms_status_report"))
    assert len(re.findall(r"<tr><td>", body)) == views.SHOWN_ROWS  # the rows shown
    bars = re.findall(r'<g class="bar" data-x="[^"]+" data-total="(\d+)"', body)
    assert len(bars) == DAYS and sum(int(b) for b in bars) == DAYS
    legend = re.search(r'<ul class="chart-legend".*?</ul>', body, re.S).group(0)
    assert re.findall(r'data-series="([^"]+)" data-total="(\d+)"', legend) == [
        ("delivered", str(DAYS))
    ]
    assert "Delivered (600)" in legend
    assert '<p class="chart-total" data-total="600">Total: 600</p>' in body
    assert "The first 500 of 600 rows are shown: export the CSV for all of them." in body
    assert len(csv_rows(client, "/reports/sms_status_report.csv")) == DAYS + 1


def test_the_operator_narrows_a_report_to_one_shop(app, client, shops):
    with app.app_context():
        add_message(shops, "a", status=Status.DELIVERED)
        add_message(shops, "b", status=Status.DELIVERED)
    login_en(client, OPERATOR)
    every = client.get("/reports/sms_message_log")
    assert '<select name="shop">' in every.text
    assert f'<option value="{shops["b"]["shop"]}">Garage B</option>' in every.text
    assert {row[-1] for row in table(every)} == {"Garage A", "Garage B"}
    only_b = client.get(f"/reports/sms_message_log?shop={shops['b']['shop']}")
    assert {row[-1] for row in table(only_b)} == {"Garage B"}
    assert f'<option value="{shops["b"]["shop"]}" selected>Garage B</option>' in only_b.text
    assert "/reports/sms_message_log.csv?status=&amp;" in only_b.text
    assert f"shop={shops['b']['shop']}" in re.search(r'href="([^"]+\.csv[^"]*)"', only_b.text)[1]
    exported = csv_rows(client, f"/reports/sms_message_log.csv?shop={shops['b']['shop']}")
    assert [row[-1] for row in exported[1:]] == ["Garage B"]
    cost = client.get(f"/reports/sms_cost?shop={shops['a']['shop']}")
    assert {row[1] for row in table(cost)} == {"Garage A"}
    # A shop's people have no shop filter: they see their shop only.
    login_en(client, shops["a"]["admin"])
    page = client.get(f"/reports/sms_message_log?shop={shops['b']['shop']}")
    assert '<select name="shop">' not in page.text
    assert {row[-1] for row in table(page)} == {"Garage A"}


def test_the_log_shows_the_text_shortened_and_the_detail_page_the_whole_text(app, client, shops):
    text = "Bonjour Client A, votre rendez-vous est confirmé pour demain à 9 h. " * 3
    with app.app_context():
        message_id = add_message(shops, "a", status=Status.DELIVERED, body=text)
    login_en(client, shops["a"]["staff"])
    page = client.get("/reports/sms_message_log")
    headings = re.findall(r'<th scope="col">(.*?)</th>', page.text)
    assert headings[:5] == ["Message", "Created", "Customer", "Phone", "Text"]
    shortened = table(page)[0][4]
    assert len(shortened) == 60 and shortened.endswith("…")
    assert text.startswith(shortened[:-1].rstrip())
    detail = page_text(client.get(f"/reports/sms_message_log/{message_id}"))
    assert text.strip() in detail.replace("&#39;", "'")
    # The CSV keeps its columns: no text column (the acceptance tests read them).
    header = csv_rows(client, "/reports/sms_message_log.csv")[0]
    assert "text" not in header and header[:4] == ["id", "created_at", "customer", "phone"]
