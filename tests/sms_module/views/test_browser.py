"""The SMS pages in a real browser: the compose box counts as the user types, offers the
plain replacements, and sends; the consent box asks for its evidence; the template editor
previews; the reply page leads from the inbox to the conversation and its reply box. The
campaign pages have theirs in ``test_campaigns_browser``."""

from __future__ import annotations

import pytest

from tests.sms_module.views.support import seeded_conversation
from tests.support_browser import log_in
from tests.support_sms import ready_to_send

expect = pytest.importorskip("playwright.sync_api").expect


def test_compose_box_counts_offers_plain_characters_and_sends(page, serve, app, shops):
    with app.app_context():
        ready_to_send(shops)
    base = serve(app)
    log_in(page, base, shops["a"]["staff"])
    page.goto(f"{base}/sms/customers/{shops['a']['customer']}")
    page.fill("#sms-body", "C’est prêt – passez quand vous voulez")
    expect(page.locator("#sms-counter")).to_have_text(
        "1 segment · 37 characters · special characters: 67 characters per segment · $0.01"
    )
    expect(page.locator("#sms-unicode")).to_contain_text("’")
    expect(page.locator("#sms-replace")).to_be_visible()
    page.click("#sms-replace-button")
    expect(page.locator("#sms-body")).to_have_value("C'est prêt - passez quand vous voulez")
    # ê remains: a real accent, not a look-alike, so the text stays Unicode.
    expect(page.locator("#sms-unicode")).to_contain_text("ê")
    page.fill("#sms-body", "a" * 200)
    expect(page.locator("#sms-counter")).to_have_text("2 segments · 200 characters · $0.02")
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
    expect(page.locator("#template-counter")).to_contain_text("special characters")
    expect(page.locator("#template-unicode")).to_contain_text("—")
    page.fill("#template-body", "Hi {{ first_name }}, see you at {{ shop_name }}")
    expect(page.locator("#template-counter")).not_to_contain_text("special characters")
    expect(page.locator("#template-unicode")).to_be_hidden()


def test_staff_opens_a_conversation_and_replies(page, serve, app, shops):
    with app.app_context():
        phone = seeded_conversation(shops, "Merci, je passe à 17 h")
    base = serve(app)
    log_in(page, base, shops["a"]["staff"])
    page.goto(f"{base}/")
    page.click("nav.menu >> text=SMS replies")
    row = page.locator(f'#sms-conversations tr[data-phone="{phone}"]')
    expect(row).to_contain_text("Client A")
    expect(row).to_have_attribute("data-unread", "1")
    row.locator("a").first.click()
    expect(page.locator("h1")).to_have_text("Client A")
    theirs = page.locator('#sms-conversation tr[data-direction="inbound"]')
    expect(theirs).to_contain_text("Merci, je passe à 17 h")
    expect(theirs).to_contain_text("Received")
    page.fill("#sms-body", "a" * 200)
    expect(page.locator("#sms-counter")).to_have_text("2 segments · 200 characters · $0.02")
    page.fill("#sms-body", "Parfait, à tantôt")
    expect(page.locator("#sms-counter")).to_contain_text("1 segment · 17 characters")
    expect(page.locator("#sms-unicode")).to_contain_text("ô")  # à is GSM; ô is not
    page.click("#sms-reply button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Your reply is scheduled")
    ours = page.locator('#sms-conversation tr[data-direction="outbound"]').last
    expect(ours).to_contain_text("Parfait, à tantôt")
    expect(ours).to_have_attribute("data-status", "queued")
    expect(page.locator("#sms-body")).to_have_value("")
    # Back in the inbox the conversation is read.
    page.goto(f"{base}/sms/replies/")
    expect(row).to_have_attribute("data-unread", "0")
