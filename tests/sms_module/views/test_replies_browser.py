"""The reply page in a real browser (issue 11): a reply that asks to stop in other words
than STOP is flagged in the inbox and the conversation, and the shop opts the phone out."""

from __future__ import annotations

import pytest

from host.extensions import db
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import Kind, SmsMessage
from plugins.sms_module.models.statuses import Status
from tests.support_browser import log_in
from tests.support_sms import ready_to_send

expect = pytest.importorskip("playwright.sync_api").expect


def test_staff_sees_a_flagged_reply_and_opts_the_phone_out(page, serve, app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        phone = customer.mobile_phone
        for direction, body, status in (
            ("outbound", "Votre auto est prête", Status.DELIVERED),
            (Kind.INBOUND, "Please don't text me anymore", Status.RECEIVED),
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
    page.goto(f"{base}/sms/replies/")
    row = page.locator(f'#sms-conversations tr[data-phone="{phone}"]')
    expect(row.locator('[data-flag="opt-out"]')).to_have_text("May ask to stop SMS")
    row.locator("a").first.click()
    expect(page.locator("#sms-opt-out-flag")).to_contain_text("may ask to stop receiving SMS")
    theirs = page.locator('#sms-conversation tr[data-direction="inbound"]')
    expect(theirs.locator('[data-flag="opt-out"]')).to_be_visible()
    page.click("#sms-opt-out-flag button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("The phone is opted out")
    expect(page.locator("#sms-opted-out")).to_be_visible()
    expect(page.locator("#sms-opt-out-flag")).to_have_count(0)
    page.goto(f"{base}/sms/replies/")
    expect(row.locator('[data-flag="opted-out"]')).to_have_text("Opted out")
    expect(row.locator('[data-flag="opt-out"]')).to_have_count(0)
    with app.app_context():
        assert opt_out.is_opted_out(phone)
