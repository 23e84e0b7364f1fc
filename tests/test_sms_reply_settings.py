"""The shop's reply forwarding settings (PRODUCT.md §9) on the SMS settings page."""

from __future__ import annotations

from host.extensions import db
from plugins.sms_module.models import ShopSmsSettings
from tests.support_pages import page_text
from tests.support_sms import login_en

URL = "/sms/settings/replies"


def saved(app, shops) -> ShopSmsSettings | None:
    with app.app_context():
        db.session.expire_all()
        row = db.session.get(ShopSmsSettings, shops["a"]["shop"])
        if row is not None:
            db.session.expunge(row)
        return row


def test_an_admin_sets_where_replies_are_forwarded(client, app, shops):
    login_en(client, shops["a"]["admin"])
    page = page_text(client.get("/sms/settings/"))
    assert "Customers' replies" in page and 'id="reply-forwarding"' in page
    assert 'id="no-smtp"' in page  # no SMTP server in the tests' settings
    response = client.post(
        URL,
        data={
            "forward_emails": "Desk@Garage-A.example.com\nboss@garage-a.example.com",
            "forward_phone": "514 555 0199",
        },
    )
    assert response.status_code == 302
    row = saved(app, shops)
    assert row.forward_emails == "Desk@garage-a.example.com\nboss@garage-a.example.com"
    assert row.forward_phone == "+15145550199"
    page = page_text(client.get("/sms/settings/"))
    assert "boss@garage-a.example.com" in page and "+15145550199" in page
    # Emptied: replies only wait on the reply page.
    assert client.post(URL, data={"forward_emails": "", "forward_phone": ""}).status_code == 302
    row = saved(app, shops)
    assert row.forward_emails is None and row.forward_phone is None


def test_bad_addresses_are_refused_clearly_and_nothing_is_saved(client, app, shops):
    login_en(client, shops["a"]["admin"])
    response = client.post(
        URL,
        data={"forward_emails": "desk@garage-a.example.com, not-an-address", "forward_phone": "12"},
    )
    assert response.status_code == 422
    page = page_text(response)
    assert "not-an-address is not an e-mail address." in page
    assert "12 is not a valid cell number" in page
    assert "desk@garage-a.example.com, not-an-address" in page  # what was typed stays
    assert saved(app, shops) is None
    many = "\n".join(f"desk{i}@garage-a.example.com" for i in range(11))
    assert client.post(URL, data={"forward_emails": many}).status_code == 422
    assert saved(app, shops) is None


def test_staff_cannot_change_the_forwarding(client, app, shops):
    login_en(client, shops["a"]["staff"])
    response = client.post(URL, data={"forward_emails": "me@example.com"})
    assert response.status_code == 403
    assert saved(app, shops) is None
