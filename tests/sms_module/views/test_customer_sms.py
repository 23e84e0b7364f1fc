"""The customer's SMS tab: sending, a refusal that keeps the text, the compose box's
preview, and how to switch the module on."""

import re

from sqlalchemy import select

from host.extensions import db
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.models.statuses import Status
from tests.support_sms import login_en, module_on, ready_to_send


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


def test_a_refused_message_is_shown_refused_not_failed(client, app, shops):
    # Issue 11, point 5: a rule's refusal keeps its row, shown as refused, with its reason.
    with app.app_context():
        module_on(shops["a"]["shop"])  # but no consent on record
    login_en(client, shops["a"]["staff"])
    url = f"/sms/customers/{shops['a']['customer']}"
    assert client.post(f"{url}/send", data={"body": "Bonjour"}).status_code == 422
    page = client.get(url).get_data(as_text=True)
    row = re.search(r'<tr data-status="failed">(.*?)</tr>', page, re.S).group(1)
    cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert "Refused" in cells and "Failed" not in cells
    assert any("No express consent" in cell for cell in cells)


def test_a_blank_text_is_a_form_error_and_stores_nothing(client, app, shops):
    # Issue 11 §5: whitespace is no message; the form says so, and no row is written.
    with app.app_context():
        ready_to_send(shops)
    login_en(client, shops["a"]["staff"])
    url = f"/sms/customers/{shops['a']['customer']}"
    response = client.post(f"{url}/send", data={"body": "  \n "})
    assert response.status_code == 422
    assert "The message is empty: write the text to send." in response.text
    with app.app_context():
        assert db.session.scalar(select(SmsMessage).where(SmsMessage.kind == "manual")) is None


def test_the_tab_says_the_v2v_number_is_missing_while_option_124_is_on(client, app, shops):
    # Issue 11 §4: option 124 is on but the V2V organization number was emptied.
    from host.models import Company

    with app.app_context():
        ready_to_send(shops)
        db.session.get(Company, shops["a"]["shop"]).v2v_number = "  "
        db.session.commit()
    login_en(client, shops["a"]["staff"])
    page = client.get(f"/sms/customers/{shops['a']['customer']}").text
    assert 'id="sms-v2v-missing"' in page and "V2V organization number" in page
