"""Layout holds with any text (issue 12 point 4): a 2,000-character reply without spaces, a
long URL and a long customer name wrap inside their column on the conversation page, the
reply inbox and the customer's SMS tab; no page is wider than the window, on a laptop and
on a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from host.api import Customer, utcnow
from host.extensions import db
from plugins.sms_module.models import Direction, Kind, SmsMessage
from plugins.sms_module.models.statuses import Status
from tests.sms_module.views.support import NUMBER
from tests.support_browser import log_in
from tests.support_sms import ready_to_send

expect = pytest.importorskip("playwright.sync_api").expect

LONG_REPLY = ("Merci!Jepasseraidemainmatin" * 80)[:2000]  # 2,000 characters, no space
LONG_URL = "https://example.com/rendez-vous/" + "/".join(f"etape{i}" for i in range(40))
LONG_FIRST_NAME = "Marie-Gabrielle-" + "Anne" * 20  # 96 characters, no space
LONG_LAST_NAME = "Tremblay-Bouchard-" + "Ouellet" * 11
WIDTHS = (1024, 390)  # a laptop, a phone


def long_texts(shops, key: str = "a") -> tuple[int, str]:
    """Give shop ``key``'s customer a long name, a conversation holding a long reply and a
    long URL, and an SMS waiting to leave with the URL; return (customer id, phone)."""
    company, customer = ready_to_send(shops, key)
    customer = db.session.get(Customer, customer.id)
    customer.first_name, customer.last_name = LONG_FIRST_NAME, LONG_LAST_NAME
    rows = [
        (Direction.OUTBOUND, f"Votre rendez-vous : {LONG_URL}", Status.DELIVERED, None),
        (Direction.INBOUND, LONG_REPLY, Status.RECEIVED, None),
        (Direction.OUTBOUND, LONG_URL, Status.SCHEDULED, utcnow() + timedelta(days=1)),
    ]
    for direction, body, status, send_at in rows:
        inbound = direction == Direction.INBOUND
        db.session.add(
            SmsMessage(
                company_id=company.id,
                customer_id=customer.id,
                phone=customer.mobile_phone,
                body=body,
                direction=direction,
                kind=Kind.INBOUND if inbound else Kind.MANUAL,
                status=status,
                sender_number=NUMBER,
                send_at=send_at,
            )
        )
    db.session.commit()
    return customer.id, customer.mobile_phone


def overflow(page) -> dict:
    """How much wider than the window the page is, and the widest element that sticks out."""
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          const out = [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > width + 0.5)
            .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
                        + (e.className ? "." + e.className : ""));
          return {scroll: document.documentElement.scrollWidth, window: width,
                  sticking_out: out.slice(0, 5)};
        }"""
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_long_texts_wrap_inside_their_column_on_the_sms_pages(page, serve, app, shops, width):
    with app.app_context():
        customer_id, phone = long_texts(shops)
    base = serve(app)
    log_in(page, base, shops["a"]["staff"], language="fr")
    page.set_viewport_size({"width": width, "height": 800})
    pages = {
        "inbox": "/sms/replies/",
        "conversation": f"/sms/replies/{phone}",
        "customer SMS tab": f"/sms/customers/{customer_id}",
    }
    for name, path in pages.items():
        page.goto(base + path)
        expect(page.locator("main")).to_contain_text(LONG_FIRST_NAME)
        measured = overflow(page)
        assert measured["scroll"] <= measured["window"], (name, measured)
        assert measured["sticking_out"] == [], name  # nothing scrolls inside a box either
    # The texts are all there, wrapped, not cut: the reply's last characters are shown.
    page.goto(f"{base}/sms/replies/{phone}")
    body = page.locator('#sms-conversation tr[data-direction="inbound"] td.body')
    expect(body).to_have_text(LONG_REPLY)
    assert body.bounding_box()["height"] > 100  # on many lines
