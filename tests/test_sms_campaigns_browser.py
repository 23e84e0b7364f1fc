"""The campaign form in a real browser: the live segment count, the audience and the cost
follow what the administrator types and picks, and sending lands on the campaign's page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from host.extensions import db
from host.models import Customer
from tests.support_sms import give_consent, ready_to_send
from tests.test_browser import log_in

expect = pytest.importorskip("playwright.sync_api").expect


def test_admin_sees_segments_audience_and_cost_then_sends(page, serve, app, shops):
    with app.app_context():
        ready_to_send(shops, "b")  # shop B's customer: English (the shop's), consent
        b = shops["b"]["shop"]
        french = Customer(company_id=b, first_name="Fr", mobile_phone="+14165550231", language="fr")
        silent = Customer(company_id=b, first_name="En", mobile_phone="+14165550232", language="en")
        db.session.add_all([french, silent])
        db.session.commit()
        give_consent(french.id)  # the English one gave none
    base = serve(app)
    log_in(page, base, shops["b"]["admin"])
    page.goto(f"{base}/sms/campaigns/")
    expect(page.locator("#campaign-customers")).to_have_text("3")
    expect(page.locator("#campaign-reachable")).to_have_text("2")
    page.fill("#campaign-name", "Spring tune-up")
    page.fill("#sms-body", "a" * 200)
    expect(page.locator("#sms-counter")).to_contain_text("2 segment(s)")
    expect(page.locator("#campaign-segments")).to_have_text("2")
    expect(page.locator("#campaign-cost")).to_have_text("0.04")  # 2 × 0.0100 × 2
    page.select_option("#campaign-language", "en")
    expect(page.locator("#campaign-customers")).to_have_text("2")
    expect(page.locator("#campaign-reachable")).to_have_text("1")
    expect(page.locator("#campaign-cost")).to_have_text("0.02")
    page.fill("#sms-body", "Tune-up: 15% off in April")
    expect(page.locator("#campaign-segments")).to_have_text("1")
    expect(page.locator("#campaign-cost")).to_have_text("0.01")
    # Tomorrow at 10:00, shop time: out of the quiet hours whatever the hour of the run.
    tomorrow = datetime.now(ZoneInfo("America/Toronto")).date() + timedelta(days=1)
    page.fill("#campaign-send-at", f"{tomorrow.isoformat()}T10:00")
    page.click("#campaign-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/sms/campaigns/\d+$"))
    expect(page.locator("#campaign-name")).to_have_text("Spring tune-up")
    expect(page.locator(".flash")).to_contain_text('Campaign "Spring tune-up" saved')
