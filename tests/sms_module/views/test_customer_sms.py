"""The customer's SMS tab: sending, a refusal that keeps the text, the compose box's
preview, and how to switch the module on."""

from sqlalchemy import select

from host.extensions import db
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.models.statuses import Status
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


def test_sms_pages_say_how_to_switch_the_module_on(client, shops):
    login_en(client, shops["a"]["admin"])
    for url in (f"/sms/customers/{shops['a']['customer']}", "/sms/settings/"):
        page = client.get(url).get_data(as_text=True)
        assert "option 124" in page and "Options" in page, url
