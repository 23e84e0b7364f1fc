"""The SMS reports as people see them in Chromium (issue 12, points 1, 2, 4 and 6): the
Quebec shop's admin reads them in French with money "75,50 $", the Ontario shop's in
English with "$75.50"; no page shows an ISO timestamp or a raw code; long texts wrap inside
their column and no report is wider than the window."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from host.api import Customer
from host.extensions import db
from plugins.sms_module.models import OptOutAction, OptOutEvent
from plugins.sms_module.models.statuses import Status
from tests.sms_module.reports.support import NEW_REPORTS, PHONES, T0, P, add_message
from tests.support_browser import log_in

expect = pytest.importorskip("playwright.sync_api").expect

REPORTS = (*NEW_REPORTS, "sms_consent_register")
# An ISO 8601 timestamp as programs write it, and a code written for programs.
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|[+-]\d{2}:\d{2}\b")
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
RAW_CODES = {
    "outbound",
    "inbound",
    "transactional",
    "promotional",
    "delivered",
    "undelivered",
    "failed",
    "refused",
    "received",
    "sent",
    "manual",
    "none",
    "module",
}
LONG_WORD = ("Réparation" + "x" * 1990)[:2000]  # 2,000 characters, no space
LONG_URL = "https://exemple.ca/" + "/".join(f"dossier{n}" for n in range(60)) + "?suivi=abc"
LONG_NAME = "Marie-Ève-Geneviève-Anne-" + "Laurence" * 9


@pytest.fixture
def history(app, shops):
    """Each shop's SMS day: a 75.50 message, a carrier failure, a refusal, a reply, an
    opt-out; shop A's customer with a long name and a 2,000-character text."""
    with app.app_context():
        ids = {}
        for key in ("a", "b"):
            ids[key] = add_message(shops, key, status=Status.DELIVERED, price="75.50")
            add_message(
                shops,
                key,
                status=Status.FAILED,
                queue=P,
                code="30003",
                reason="Unreachable destination handset",
                created=T0 + timedelta(hours=1),
                steps=((Status.FAILED, 5, "provider_callback", "30003"),),
            )
            add_message(shops, key, status=Status.FAILED, code="opted_out", attempts=0)
            add_message(
                shops, key, status=Status.RECEIVED, direction="inbound", kind="inbound", attempts=0
            )
            db.session.add(
                OptOutEvent(
                    phone=PHONES[key],
                    action=OptOutAction.OPT_OUT,
                    company_id=shops[key]["shop"],
                    raw_message="STOP",
                    source="sms_keyword",
                    at=T0,
                )
            )
        db.session.get(Customer, shops["a"]["customer"]).first_name = LONG_NAME
        ids["long"] = add_message(
            shops, "a", status=Status.DELIVERED, price="0", body=f"{LONG_WORD} {LONG_URL}"
        )
        db.session.commit()
    return ids


def seen(page) -> str:
    return page.locator("main").inner_text()


def check_readable(page, where: str) -> None:
    """No ISO timestamp, no snake_case code, no raw code alone in a cell."""
    text = seen(page)
    assert not ISO_TIMESTAMP.search(text), (where, ISO_TIMESTAMP.search(text))
    assert not SNAKE_CASE.search(text), (where, SNAKE_CASE.search(text))
    cells = {c.strip() for c in page.locator("main td").all_inner_texts()}
    assert not cells & RAW_CODES, (where, cells & RAW_CODES)


def test_the_quebec_admin_reads_every_report_in_french(page, serve, app, shops, history):
    base = serve(app)
    log_in(page, base, shops["a"]["admin"], language="fr")
    for name in REPORTS:
        page.goto(f"{base}/reports/{name}")
        check_readable(page, name)
        assert page.locator("html").get_attribute("lang") == "fr"
    page.goto(f"{base}/reports/sms_message_log")
    headings = page.locator("main th").all_inner_texts()
    assert {"Créé", "Statut", "File", "Texte", "Coût"} <= {h.strip() for h in headings}
    assert "created_at" not in headings and "failure_code" not in headings
    row = page.locator(f'tr:has(a[href$="/sms_message_log/{history["a"]}"])')
    expect(row).to_contain_text("75,50\xa0$")
    expect(row).to_contain_text("Livré")
    expect(row).to_contain_text("5 janv. 2025")
    expect(page.locator('input[type="date"][name="from"]')).to_be_visible()
    page.goto(f"{base}/reports/sms_cost")
    expect(page.locator("main table")).to_contain_text("75,50\xa0$")
    page.goto(f"{base}/reports/sms_message_log/{history['a']}")
    check_readable(page, "detail")
    expect(page.locator("main")).to_contain_text("75,50\xa0$")


def test_the_ontario_admin_reads_dollars_the_english_way(page, serve, app, shops, history):
    base = serve(app)
    log_in(page, base, shops["b"]["admin"], language="en")
    for name in REPORTS:
        page.goto(f"{base}/reports/{name}")
        check_readable(page, name)
    page.goto(f"{base}/reports/sms_cost")
    expect(page.locator("main table")).to_contain_text("$75.50")
    page.goto(f"{base}/reports/sms_message_log")
    row = page.locator(f'tr:has(a[href$="/sms_message_log/{history["b"]}"])')
    expect(row).to_contain_text("$75.50")
    expect(row).to_contain_text("Delivered")
    assert "Garage A" not in seen(page)


@pytest.mark.parametrize("width", (1024, 390))
def test_long_texts_wrap_inside_the_report_tables(page, serve, app, shops, history, width):
    base = serve(app)
    log_in(page, base, shops["a"]["admin"], language="fr")
    page.set_viewport_size({"width": width, "height": 800})
    for path in (
        "/reports/sms_message_log",
        f"/reports/sms_message_log/{history['long']}",
        "/reports/sms_opt_out_register",
        "/reports/",
    ):
        page.goto(base + path)
        wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, (path, wide)
    # The detail page shows the whole text, wrapped inside its column on many lines.
    page.goto(f"{base}/reports/sms_message_log/{history['long']}")
    cell = page.locator("table.report-detail td", has_text=LONG_URL)
    expect(cell).to_contain_text(LONG_WORD)
    assert cell.bounding_box()["height"] > 100
    assert cell.bounding_box()["width"] <= width
