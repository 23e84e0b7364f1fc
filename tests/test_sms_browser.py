"""The SMS pages in a real browser: the compose box counts as the user types, offers the
plain replacements, and sends; the consent box asks for its evidence."""

from __future__ import annotations

import pytest

from tests.support_sms import ready_to_send
from tests.test_browser import log_in

expect = pytest.importorskip("playwright.sync_api").expect


def test_compose_box_counts_offers_plain_characters_and_sends(page, serve, app, shops):
    with app.app_context():
        ready_to_send(shops)
    base = serve(app)
    log_in(page, base, shops["a"]["staff"])
    page.goto(f"{base}/sms/customers/{shops['a']['customer']}")
    page.fill("#sms-body", "C’est prêt – passez quand vous voulez")
    expect(page.locator("#sms-counter")).to_contain_text("UCS-2")
    expect(page.locator("#sms-unicode")).to_contain_text("’")
    expect(page.locator("#sms-replace")).to_be_visible()
    page.click("#sms-replace-button")
    expect(page.locator("#sms-body")).to_have_value("C'est prêt - passez quand vous voulez")
    # ê remains: a real accent, not a look-alike, so the text stays Unicode.
    expect(page.locator("#sms-unicode")).to_contain_text("ê")
    page.fill("#sms-body", "a" * 200)
    expect(page.locator("#sms-counter")).to_contain_text("2 segment(s)")
    expect(page.locator("#sms-counter")).to_contain_text("GSM-7")
    page.click("#sms-compose button[type=submit]")
    expect(page.locator("#sms-messages tbody tr").first).to_have_attribute("data-status", "queued")


def test_consent_box_shows_the_evidence_fields_when_ticked(page, serve, app, shops):
    base = serve(app)
    log_in(page, base, shops["b"]["staff"])
    page.goto(f"{base}/customers/{shops['b']['customer']}")
    expect(page.locator("#sms-consent-evidence")).to_be_hidden()
    page.check("#sms_consent")
    expect(page.locator("#sms-consent-evidence")).to_be_visible()
    page.select_option("#sms_consent_method", "electronic")
    page.fill("#sms_consent_reference", "signed invoice 1042")
    page.click("main form button[type=submit]")
    expect(page.locator(".consent-history")).to_contain_text("signed invoice 1042")


def test_template_editor_previews_as_the_admin_types(page, serve, app, shops):
    base = serve(app)
    log_in(page, base, shops["b"]["admin"])
    page.goto(f"{base}/sms/settings/templates/appointment_booked/en")
    page.fill("#template-body", "Hi {{ first_name }}, see you at {{ shop_name }} — thanks")
    expect(page.locator("#template-preview")).to_contain_text("Garage B")
    expect(page.locator("#template-counter")).to_contain_text("UCS-2")
    expect(page.locator("#template-unicode")).to_contain_text("—")
    page.fill("#template-body", "Hi {{ first_name }}, see you at {{ shop_name }}")
    expect(page.locator("#template-counter")).to_contain_text("GSM-7")
    expect(page.locator("#template-unicode")).to_be_hidden()
