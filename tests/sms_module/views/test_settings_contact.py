"""The shop's contact number on the SMS settings page: the number the answer to HELP gives
(issue 11; CTIA: HELP names a contact), else the platform's ``SMS_HELP_PHONE``."""

from __future__ import annotations

from host.extensions import db
from plugins.sms_module.models import ShopSmsSettings
from tests.support_pages import page_text
from tests.support_sms import login_en

URL = "/sms/settings/contact"


def test_an_admin_saves_and_clears_the_contact_number(client, app, shops):
    app.config.update(SMS_HELP_PHONE="+18005550199")
    login_en(client, shops["a"]["admin"])
    page = page_text(client.get("/sms/settings/"))
    assert 'id="help-contact"' in page and 'name="contact_phone"' in page
    assert "gives the platform's, (800) 555-0199" in page
    response = client.post(URL, data={"contact_phone": "514 555 0123"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ShopSmsSettings, shops["a"]["shop"]).contact_phone == "+15145550123"
    page = page_text(client.get("/sms/settings/"))
    assert "Contact number saved" in page and 'value="+15145550123"' in page
    assert 'id="no-contact-phone"' not in page
    assert client.post(URL, data={"contact_phone": " "}).status_code == 302
    with app.app_context():
        assert db.session.get(ShopSmsSettings, shops["a"]["shop"]).contact_phone is None


def test_a_bad_contact_number_is_refused_clearly_and_nothing_is_saved(client, app, shops):
    app.config.update(SMS_HELP_PHONE=None)
    login_en(client, shops["a"]["admin"])
    response = client.post(URL, data={"contact_phone": "12"})
    assert response.status_code == 422
    page = page_text(response)
    assert "12 is not a valid phone number" in page and 'value="12"' in page
    assert "the answer to HELP gives none" in page
    with app.app_context():
        assert db.session.get(ShopSmsSettings, shops["a"]["shop"]) is None


def test_staff_cannot_change_the_contact_number(client, app, shops):
    login_en(client, shops["a"]["staff"])
    assert client.post(URL, data={"contact_phone": "514 555 0123"}).status_code == 403
    with app.app_context():
        assert db.session.get(ShopSmsSettings, shops["a"]["shop"]) is None
