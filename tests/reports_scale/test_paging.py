"""Pages past the first 500 rows (issue 14, point 2): the long reports page by keyset, each
row on exactly one page, in the report's order; a summary report cuts its pages from the
whole report, whose chart and count stay over every row."""

from __future__ import annotations

import re
from datetime import timedelta

from host.extensions import db
from plugins.reports import views
from plugins.sms_module.models import ConsentEvent, ConsentKind, OptOutAction, OptOutEvent
from plugins.sms_module.models.statuses import Status
from tests.reports_scale.support import every_page, many_messages, newest_first_ids
from tests.sms_module.reports.support import OPERATOR, PHONES, T0, P, T, table
from tests.support_sms import login_en

COUNT = 1203  # three pages of the message log, many rows sharing their time


def test_the_message_log_pages_past_500_rows_each_row_once_in_order(app, client, shops):
    with app.app_context():
        many_messages(shops, "a", COUNT)
        many_messages(shops, "b", 20)
        expected = newest_first_ids(shops["a"]["shop"])
    login_en(client, shops["a"]["staff"])
    rows, pages = every_page(client, "/reports/sms_message_log")
    assert pages == 3
    assert [int(row[0]) for row in rows] == expected  # each once, newest first, none of B's
    first = client.get("/reports/sms_message_log").text
    assert 'rel="next"' in first and "First page" not in first
    assert "Only the first rows are shown: export the CSV for all of them." in first
    second = client.get(
        re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    )
    assert "First page" in second.text and len(table(second)) == views.SHOWN_ROWS


def test_a_filtered_log_pages_with_its_filters(app, client, shops):
    with app.app_context():
        many_messages(
            shops,
            "a",
            2000,
            queue=lambda n: P if n % 2 else T,
            status=lambda n: Status.FAILED if n % 10 == 1 else Status.DELIVERED,
            failure_code=lambda n: "30003" if n % 10 == 1 else None,
        )
        from plugins.sms_module.models import SmsMessage

        expected = newest_first_ids(
            shops["a"]["shop"], SmsMessage.queue == P, SmsMessage.status == Status.DELIVERED
        )
    login_en(client, OPERATOR)
    rows, pages = every_page(
        client,
        f"/reports/sms_message_log?queue=promotional&status=delivered&shop={shops['a']['shop']}",
    )
    assert [int(row[0]) for row in rows] == expected and pages == 1 + len(expected) // 500
    assert len(expected) > 500


def test_a_cursor_that_cannot_be_read_gives_the_first_page(app, client, shops):
    with app.app_context():
        many_messages(shops, "a", 3)
    login_en(client, shops["a"]["staff"])
    for cursor in ("x", "12_", "_5", "9" * 60, "-1_-1", "123456789012345678901234567_1"):
        response = client.get(f"/reports/sms_message_log?after={cursor}")
        assert response.status_code == 200, cursor
        assert len(table(response)) == 3, cursor


def test_the_registers_page_by_keyset(app, client, shops):
    with app.app_context():
        customer, shop = shops["a"]["customer"], shops["a"]["shop"]
        db.session.add_all(
            ConsentEvent(
                company_id=shop, customer_id=customer, phone=PHONES["a"], kind=ConsentKind.GIVEN
            )
            for _ in range(COUNT)
        )
        db.session.add_all(
            OptOutEvent(
                phone=PHONES["a"],
                action=OptOutAction.OPT_OUT if n % 2 else OptOutAction.OPT_IN,
                company_id=shop,
                source="sms_keyword",
                at=T0 + timedelta(seconds=n // 4),
            )
            for n in range(COUNT)
        )
        db.session.commit()
        consent_ids = sorted(e.id for e in db.session.query(ConsentEvent))
        newest = db.session.query(OptOutEvent).order_by(
            OptOutEvent.at.desc(), OptOutEvent.id.desc()
        )
        actions = ["Opt-out" if e.action == OptOutAction.OPT_OUT else "Opt-in" for e in newest]
    login_en(client, shops["a"]["admin"])
    rows, pages = every_page(client, "/reports/sms_consent_register")
    assert [int(r[0].replace(",", "")) for r in rows] == consent_ids and pages == 3  # each once
    rows, pages = every_page(client, "/reports/sms_opt_out_register")
    assert [r[2] for r in rows] == actions and pages == 3  # newest first, each once


def test_a_summary_report_cuts_its_pages_and_counts_every_row(app, client, shops):
    with app.app_context():
        many_messages(shops, "a", 600, created_at=lambda n: T0 + timedelta(days=n))
    login_en(client, shops["a"]["staff"])
    rows, pages = every_page(client, "/reports/sms_status_report")
    assert pages == 2 and len(rows) == 600
    assert len({row[0] for row in rows}) == 600  # a day a row, each once
    second = client.get(f"/reports/sms_status_report?after={views.SHOWN_ROWS}")
    assert "Rows 501 to 600 of 600 are shown." in second.text
    assert '<p class="chart-total" data-total="600">' in second.text  # the whole report
