"""The reply page in a real browser (issue 11): a reply that asks to stop in other words
than STOP is flagged in the inbox and the conversation, and the shop opts the phone out."""

from __future__ import annotations

import pytest

from plugins.sms_module.compliance import opt_out
from tests.sms_module.views.support import seeded_conversation
from tests.support_browser import log_in

expect = pytest.importorskip("playwright.sync_api").expect


def test_staff_sees_a_flagged_reply_and_opts_the_phone_out(page, serve, app, shops):
    with app.app_context():
        phone = seeded_conversation(shops, "Please don't text me anymore")
    base = serve(app)
    log_in(page, base, shops["a"]["staff"])
    page.goto(f"{base}/sms/replies/")
    row = page.locator(f'#sms-conversations tr[data-phone="{phone}"]')
    expect(row.locator('[data-flag="opt-out"]')).to_have_text("May ask to stop SMS")
    row.locator("a").first.click()
    expect(page.locator("#sms-opt-out-flag")).to_contain_text("may ask to stop receiving SMS")
    theirs = page.locator('#sms-conversation tr[data-direction="inbound"]')
    expect(theirs.locator('[data-flag="opt-out"]')).to_be_visible()
    questions = []  # opting a phone out asks first (issue 12 point 8)
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.click("#sms-opt-out-flag button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("The phone is opted out")
    expect(page.locator("#sms-opted-out")).to_be_visible()
    assert questions and "START" in questions[0], questions
    expect(page.locator("#sms-opt-out-flag")).to_have_count(0)
    page.goto(f"{base}/sms/replies/")
    expect(row.locator('[data-flag="opted-out"]')).to_have_text("Opted out")
    expect(row.locator('[data-flag="opt-out"]')).to_have_count(0)
    with app.app_context():
        assert opt_out.is_opted_out(phone)
