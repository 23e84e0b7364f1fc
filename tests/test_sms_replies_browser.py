"""The reply page in a real browser: from the inbox to the conversation, the reply box counts
as the user types, and the reply sent is listed in the conversation."""

from __future__ import annotations

import pytest

from host.extensions import db
from plugins.sms_module.models import Kind, SmsMessage
from plugins.sms_module.models.statuses import Status
from tests.support_sms import ready_to_send
from tests.test_browser import log_in

expect = pytest.importorskip("playwright.sync_api").expect


def test_staff_opens_a_conversation_and_replies(page, serve, app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        phone = customer.mobile_phone
        for direction, body, status in (
            ("outbound", "Votre auto est prête", Status.DELIVERED),
            (Kind.INBOUND, "Merci, je passe à 17 h", Status.RECEIVED),
        ):
            db.session.add(
                SmsMessage(
                    company_id=company.id,
                    customer_id=customer.id,
                    phone=phone,
                    body=body,
                    direction=direction,
                    kind="manual" if direction == "outbound" else Kind.INBOUND,
                    status=status,
                    sender_number="+14386013562",
                )
            )
        db.session.commit()
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
    expect(page.locator("#sms-counter")).to_contain_text("2 segment(s)")
    expect(page.locator("#sms-counter")).to_contain_text("GSM-7")
    page.fill("#sms-body", "Parfait, à tantôt")
    expect(page.locator("#sms-counter")).to_contain_text("1 segment(s)")
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
