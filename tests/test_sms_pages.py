"""The customer's SMS tab, the compose box's preview, the SMS settings page, the CLI."""

import json
from decimal import Decimal

from sqlalchemy import select

from host.extensions import db
from plugins.sms_module.models import ApiToken, SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.texts import pricing
from tests.support_sms import login_en, ready_to_send


def test_send_from_the_customer_tab(client, app, shops):
    with app.app_context():
        ready_to_send(shops)
    login_en(client, shops["a"]["staff"])
    url = f"/sms/customers/{shops['a']['customer']}"
    assert client.get(url).status_code == 200
    response = client.post(f"{url}/send", data={"body": "Votre véhicule est prêt"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Votre véhicule est prêt" in page and 'data-status="queued"' in page


def test_refused_send_keeps_the_text_and_says_why(client, app, shops):
    login_en(client, shops["a"]["staff"])
    url = f"/sms/customers/{shops['a']['customer']}"
    response = client.post(f"{url}/send", data={"body": "Texte à garder"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Texte à garder" in page and "option 124" in page
    with app.app_context():
        assert db.session.scalar(select(SmsMessage)).status == Status.FAILED


def test_compose_preview(client, shops):
    login_en(client, shops["a"]["staff"])
    data = client.post("/sms/segments", json={"body": "C’est prêt"}).get_json()
    assert data["encoding"] == "UCS-2"
    assert data["unicode_characters"] == ["’", "ê"]
    assert data["replacements"] == {"’": "'"}
    too_long = client.post("/sms/segments", json={"body": "x" * 1601})
    assert too_long.status_code == 422 and "1600" in too_long.get_json()["error"][
        "message"
    ].replace(",", "")
    assert client.post("/sms/segments", json={"text": 1}).status_code == 400


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


def test_cli_segments_json(runner):
    result = runner.invoke(args=["sms", "segments", "a" * 200, "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data == {
        "encoding": "GSM-7",
        "units": 200,
        "segments": 2,
        "unicode_characters": [],
        "price": data["price"],
        "currency": "CAD",
    }
    assert Decimal(data["price"]) == 2 * Decimal("0.0100")
    result = runner.invoke(args=["sms", "segments", "é" * 149 + "ê", "--json"])
    data = json.loads(result.output)
    assert (data["encoding"], data["segments"], data["unicode_characters"]) == ("UCS-2", 3, ["ê"])
    result = runner.invoke(args=["sms", "segments", "x" * 1601])
    assert result.exit_code != 0 and "1,600" in result.output


def test_cli_price(runner):
    assert runner.invoke(args=["sms", "price", "0.02", "--currency", "USD"]).exit_code == 0
    assert "0.0200 USD" in runner.invoke(args=["sms", "price"]).output
    bad = runner.invoke(args=["sms", "price", "cheap"])
    assert bad.exit_code != 0 and "not a price" in bad.output
