"""The SMS settings page: API tokens, the consent ledger's export, reply forwarding
(PRODUCT.md §9), and the operator's price."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from host.extensions import db
from plugins.sms_module.models import ApiToken, ShopSmsSettings
from plugins.sms_module.texts import pricing
from tests.support_pages import page_text
from tests.support_sms import login_en


def test_tokens_are_shown_once_stored_hashed_and_revocable(client, app, shops):
    login_en(client, shops["a"]["admin"])
    response = client.post("/sms/settings/tokens", data={"name": "workshop app"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="new-token"' in page
    token = page.split('id="new-token">')[1].split("<")[0]
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert token not in (row.token_hash, row.prefix) and row.token_hash != token
    assert "crm_" in client.get("/sms/settings/").get_data(as_text=True)  # prefix only
    assert token not in client.get("/sms/settings/").get_data(as_text=True)
    assert client.post("/sms/settings/tokens", data={"name": ""}).status_code == 422
    assert client.post(f"/sms/settings/tokens/{row.id}/revoke").status_code == 302
    api = app.test_client().post(
        "/api/v1/sms/segments", json={"body": "x"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 401


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("evil\r\nBcc: x@y.z", "Write this on one line: remove the line breaks."),
        ("evil\u2028line", "Write this on one line: remove the line breaks."),
        ("bell\x07", "Remove the invisible control characters."),
    ],
)
def test_a_token_name_with_line_breaks_or_controls_is_refused(client, app, shops, name, message):
    # Issue 13 §10: a name may reach an e-mail header; nothing is stored.
    login_en(client, shops["a"]["admin"])
    response = client.post("/sms/settings/tokens", data={"name": name})
    assert response.status_code == 422 and message in page_text(response)
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None


def test_staff_cannot_open_settings_and_other_shops_tokens_are_404(client, app, shops):
    with app.app_context():
        from plugins.sms_module.api import tokens

        token_id = tokens.create_token(shops["b"]["shop"], "b", None)[0].id
    login_en(client, shops["a"]["staff"])
    assert client.get("/sms/settings/").status_code == 403
    client.post("/logout")
    login_en(client, shops["a"]["admin"])
    assert client.post(f"/sms/settings/tokens/{token_id}/revoke").status_code == 404
    assert client.get(f"/sms/customers/{shops['b']['customer']}").status_code == 404


def test_operator_sets_the_price(client, app, shops):
    login_en(client, "operator@example.com")
    assert client.get("/sms/settings/").status_code == 200
    assert (
        client.post(
            "/sms/settings/pricing", data={"price_per_segment": "abc", "currency": "CAD"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/sms/settings/pricing", data={"price_per_segment": "NaN", "currency": "CAD"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/sms/settings/pricing", data={"price_per_segment": "0.02", "currency": "C"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/sms/settings/pricing", data={"price_per_segment": "0.0125", "currency": "usd"}
        ).status_code
        == 302
    )
    with app.app_context():
        assert pricing.pricing() == pricing.Pricing(Decimal("0.0125"), "USD")
    client.post("/logout")
    login_en(client, shops["a"]["admin"])
    assert (
        client.post(
            "/sms/settings/pricing", data={"price_per_segment": "0", "currency": "CAD"}
        ).status_code
        == 403
    )


def test_ledger_exports_as_csv_for_the_shop_only(client, app, shops):
    from tests.support_sms import give_consent

    with app.app_context():
        give_consent(shops["a"]["customer"])
        give_consent(shops["b"]["customer"])
    login_en(client, shops["a"]["admin"])
    response = client.get("/sms/settings/consent.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [r["customer_id"] for r in rows] == [str(shops["a"]["customer"])]
    assert rows[0]["event"] == "given" and rows[0]["method"] == "paper"
    # The same register through the reports plugin.
    report = client.get("/reports/sms_consent_register.csv").get_data(as_text=True)
    assert "form 12" in report and report.count("\n") == 2


# -- reply forwarding -----------------------------------------------------------------


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
