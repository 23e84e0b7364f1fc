"""The review of issue 12's everyday screens: the live counter in the reader's words and
number format (point 1), queue and state labels on the operator's screens (2), no module
alert on a page with nothing wrong (3); points 4 to 7: test_screens_review_inputs.py."""

from __future__ import annotations

import html
import re

import pytest
from flask_babel import force_locale

from host.extensions import db
from host.models import Company
from plugins.sms_module.models import Queue
from plugins.sms_module.sending import pools
from plugins.sms_module.texts.labels import queue_label, state_label
from plugins.sms_module.texts.preview import preview
from tests.support_sms import login_en, module_on

ACCENTED = "Votre véhicule est prêt, passez le chercher"[:42].ljust(42, ".")


def login_fr(client, email: str) -> None:
    from tests.conftest import login

    login(client, email)
    client.get("/language/fr")


# Point 1: the live counter ---------------------------------------------------------------


def test_the_preview_says_it_in_english_words_and_keeps_its_codes(app, shops):
    with app.test_request_context(), force_locale("en"):
        result, status = preview(ACCENTED)
    assert status == 200
    assert result["summary"] == (
        "1 segment · 42 characters · special characters: 67 characters per segment · $0.01"
    )
    assert result["price_text"] == "$0.01" and result["characters"] == 42
    # The API's keys stay as they were.
    assert (result["encoding"], result["units"], result["price"], result["currency"]) == (
        "UCS-2",
        42,
        "0.0100",
        "CAD",
    )


def test_the_preview_says_it_in_french_with_french_numbers(app, shops):
    with app.test_request_context(), force_locale("fr"):
        result, _status = preview(ACCENTED)
        plain, _status = preview("a" * 200)
    assert result["price_text"] == "0,01\xa0$"
    assert result["summary"] == (
        "1 segment · 42 caractères · caractères spéciaux : 67 caractères par segment · 0,01\xa0$"
    )
    assert plain["summary"] == "2 segments · 200 caractères · 0,02\xa0$"
    assert "UCS-2" not in result["summary"] and "CAD" not in result["summary"]


def test_the_compose_box_comes_with_the_counter_in_words(client, app, shops):
    with app.app_context():
        module_on(shops["a"]["shop"])  # no consent: the send is refused, the text kept
    login_en(client, shops["a"]["staff"])
    response = client.post(f"/sms/customers/{shops['a']['customer']}/send", data={"body": "a" * 42})
    assert response.status_code == 422
    counter = re.search(r'id="sms-counter"[^>]*>(.*?)</p>', response.text, re.S).group(1)
    assert counter.strip() == "1 segment · 42 characters · $0.01"


def test_the_segments_endpoint_gives_the_summary(client, app, shops):
    login_en(client, shops["a"]["staff"])
    data = client.post("/sms/segments", json={"body": "a" * 42}).get_json()
    assert data["summary"] == "1 segment · 42 characters · $0.01"
    assert data["segments"] == 1 and data["encoding"] == "GSM-7"


# Point 2: one label per code -------------------------------------------------------------


def test_labels_are_capitalised_in_both_languages(app):
    with app.test_request_context():
        with force_locale("en"):
            assert [queue_label(q) for q in Queue] == ["Transactional", "Promotional"]
            assert (state_label(True), state_label(False)) == ("Enabled", "Disabled")
            assert queue_label("transactional") == "Transactional"
        with force_locale("fr"):
            assert [queue_label(q) for q in Queue] == ["Transactionnelle", "Promotionnelle"]
            assert (state_label(True), state_label(False)) == ("Activé", "Désactivé")


def cells(html: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table}">(.*?)</table>', html, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
        if "<td" in tr
    ]


def test_numbers_and_operations_pages_show_labels(client, app, shops):
    with app.app_context():
        pools.disable_number(pools.pool(Queue.PROMOTIONAL)[0].number)
    login_en(client, "operator@example.com")
    numbers = cells(client.get("/sms/numbers/").text, "sender-numbers")
    assert {row[1] for row in numbers} == {"Transactional", "Promotional"}
    assert {row[3] for row in numbers} == {"Enabled", "Disabled"}
    operations = cells(client.get("/sms/operations/").text, "numbers")
    assert {row[1] for row in operations} == {"Transactional", "Promotional"}
    assert {row[3] for row in operations} == {"Enabled", "Disabled"}
    client.get("/language/fr")
    numbers = cells(client.get("/sms/numbers/").text, "sender-numbers")
    assert {row[1] for row in numbers} == {"Transactionnelle", "Promotionnelle"}
    assert {row[3] for row in numbers} == {"Activé", "Désactivé"}


def test_the_pool_flash_names_the_queue_by_its_label(client, app, shops):
    with app.app_context():
        existing = pools.pool(Queue.TRANSACTIONAL)[0].number
    login_fr(client, "operator@example.com")
    response = client.post("/sms/numbers/", data={"number": existing, "queue": "promotional"})
    [flash] = re.findall(r'class="flash error"[^>]*>(.*?)<', response.text, re.S)
    assert html.unescape(flash).strip() == (
        f"Le {existing} est déjà dans le bassin de la file Transactionnelle."
    )


# Point 3: no alert when nothing is wrong --------------------------------------------------


def test_the_operators_replies_page_has_no_alert_after_picking_a_shop(client, app, shops):
    with app.app_context():
        module_on(shops["a"]["shop"])
        assert db.session.get(Company, shops["a"]["shop"]).v2v_number  # filled
    login_en(client, "operator@example.com")
    client.post(f"/shops/{shops['a']['shop']}/pick", data={"next": "/sms/replies/"})
    page = client.get("/sms/replies/").text
    assert 'role="alert"' not in page
    assert "sms-v2v-missing" not in page and "Open Company management" not in page


@pytest.mark.parametrize("who", ["admin", "staff"])
def test_a_shop_with_nothing_wrong_sees_no_alert_and_a_wrong_one_its_words(client, app, shops, who):
    with app.app_context():
        module_on(shops["a"]["shop"])
    login_en(client, shops["a"][who])
    for url in ("/sms/replies/", "/"):
        assert "sms-v2v-missing" not in client.get(url).text
    with app.app_context():
        db.session.get(Company, shops["a"]["shop"]).v2v_number = ""
        db.session.commit()
    alert = re.search(r'id="sms-v2v-missing">(.*?)<a', client.get("/sms/replies/").text, re.S)
    assert "V2V organization number" in alert.group(1)
