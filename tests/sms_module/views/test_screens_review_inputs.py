"""The review of issue 12's everyday screens, continued: prices and rates typed the reader's
way (point 4), the start page's text states and fix links (5), sender numbers that are
numbers of Canada or the US (6) and a confirmation before canceling a campaign (7)."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from flask_babel import force_locale

from host.extensions import db
from host.models import Company, Customer
from plugins.sms_module.models import FailureCode, Queue, SenderNumber
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import pools
from plugins.sms_module.texts import pricing
from plugins.sms_module.views.home_lists import TextState
from tests.sms_module.views.support import add_message
from tests.sms_module.views.test_home_panel import NOW
from tests.sms_module.views.test_screens_review import login_fr
from tests.support_pages import page_text
from tests.support_sms import login_en, module_on

ACCENTED = "Votre véhicule est prêt, passez le chercher"[:42].ljust(42, ".")


# Point 4: the reader's decimal separator ---------------------------------------------------


def test_a_french_operator_types_a_french_price(client, app, shops):
    login_fr(client, "operator@example.com")
    page = client.get("/sms/settings/").text
    assert (
        'id="price_per_segment" name="price_per_segment" inputmode="decimal" value="0,0100"' in page
    )
    response = client.post(
        "/sms/settings/pricing", data={"price_per_segment": "0,02", "currency": "CAD"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert pricing.pricing() == pricing.Pricing(Decimal("0.0200"), "CAD")
    assert 'value="0,0200"' in client.get("/sms/settings/").text
    # A plain "0.02" is read too.
    client.post("/sms/settings/pricing", data={"price_per_segment": "0.03", "currency": "CAD"})
    with app.app_context():
        assert pricing.pricing().price_per_segment == Decimal("0.03")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Le prix par segment est un nombre comme 0,0100."),
        ("0,000001", "Un prix par segment supérieur à zéro est d'au moins 0,00001."),
        ("0", "Le prix par segment est supérieur à zéro, p. ex. 0,0100."),
    ],
)
def test_french_price_refusals_write_french_numbers(client, app, shops, typed, message):
    login_fr(client, "operator@example.com")
    response = client.post(
        "/sms/settings/pricing", data={"price_per_segment": typed, "currency": "CAD"}
    )
    assert response.status_code == 422
    assert message in page_text(response)


def test_english_reads_english_decimals_only(client, app, shops):
    login_en(client, "operator@example.com")
    response = client.post(
        "/sms/settings/pricing", data={"price_per_segment": "0,02", "currency": "CAD"}
    )
    assert response.status_code == 422
    assert "The price per segment is a number such as 0.0100." in page_text(response)
    assert 'value="0.0100"' in client.get("/sms/settings/").text


def test_a_french_operator_types_a_french_rate(client, app, shops):
    with app.app_context():
        row = pools.pool(Queue.TRANSACTIONAL)[0]
        number_id = row.id
    login_fr(client, "operator@example.com")
    response = client.post(f"/sms/numbers/{number_id}/rate", data={"rate": "0,5"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(SenderNumber, number_id).rate == Decimal("0.5")
    assert f'id="rate-{number_id}"' in (page := client.get("/sms/numbers/").text)
    assert re.search(rf'id="rate-{number_id}"[^>]*value="0,5"', page)


# Point 5: the start page's states and links ----------------------------------------------


def test_text_states_use_the_status_labels(app):
    with app.test_request_context():
        with force_locale("en"):
            assert TextState("delivered").label == "Delivered"
            assert TextState("refused").label == "Refused"
            assert TextState("none").label == "No SMS"
        with force_locale("fr"):
            assert TextState("delivered").label == "Livré"
            assert TextState("none").label == "Aucun texto"


def problem_row(html: str, message_id: int) -> str:
    return re.search(rf'<tr data-message-id="{message_id}"(.*?)</tr>', html, re.S).group(1)


def test_the_fix_link_goes_once_the_province_is_filled(client, app, shops, time_machine):
    time_machine.move_to(NOW, tick=False)
    a = shops["a"]
    with app.app_context():
        module_on(a["shop"])
        from tests.support_sms import give_consent

        give_consent(a["customer"])
        shop = db.session.get(Company, a["shop"])
        shop.province = None
        db.session.commit()
        refused = add_message(
            a["shop"],
            "+15145550101",
            "Bonjour",
            status=Status.FAILED,
            failure_code=FailureCode.LOCATION_MISSING,
            customer_id=a["customer"],
        )
    login_en(client, a["admin"])
    row = problem_row(client.get("/").text, refused)
    assert "Open Company management" in row and "Resend once fixed." in row
    with app.app_context():
        db.session.get(Company, a["shop"]).province = "QC"
        db.session.commit()
    row = problem_row(client.get("/").text, refused)
    assert "Open Company management" not in row and "fix-link" not in row
    assert ">Resend</button>" in row


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (FailureCode.INVALID_PHONE, Status.FAILED),
        (FailureCode.NO_PHONE, Status.FAILED),
        ("21211", Status.FAILED),
        ("21614", Status.UNDELIVERED),
    ],
)
def test_an_invalid_number_links_to_the_information_tab(
    client, app, shops, time_machine, code, status
):
    time_machine.move_to(NOW, tick=False)
    a = shops["a"]
    with app.app_context():
        module_on(a["shop"])
        customer = db.session.get(Customer, a["customer"])
        customer.mobile_phone = "" if code == FailureCode.NO_PHONE else "+15145550101"
        if code == FailureCode.INVALID_PHONE:
            customer.mobile_phone = "123"
        db.session.commit()
        message = add_message(
            a["shop"],
            "+15145550101",
            "Bonjour",
            status=status,
            failure_code=code,
            customer_id=a["customer"],
        )
    login_en(client, a["admin"])
    row = problem_row(client.get("/").text, message)
    link = re.search(r'<a href="([^"]+)" class="fix-link">([^<]+)</a>', row)
    assert (link.group(1), html.unescape(link.group(2))) == (
        f"/customers/{a['customer']}",
        "Open the customer's information",
    )


# Point 6: sender numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "start"),
    [
        ("+15145550142x", "+15145550142x is not a phone number"),
        ("+1 514 555 0142 ext. 3", "+1 514 555 0142 ext. 3 is not a phone number"),
        ("+12425550100", "+12425550100 is not a Canadian or US number"),
        ("+1 242 357 1234", "+1 242 357 1234 is not a Canadian or US number"),
    ],
)
def test_sender_numbers_are_digits_of_canada_or_the_us(app, number, start):
    with app.test_request_context(), force_locale("en"):
        assert pools.sender_number_problem(number).startswith(start)


# Point 7: confirmation before canceling a campaign ----------------------------------------


def test_canceling_a_campaign_asks_first(client, app, shops):
    with app.app_context():
        module_on(shops["b"]["shop"])
    login_en(client, shops["b"]["admin"])
    response = client.post(
        "/sms/campaigns/",
        data={"name": "Spring", "body": "Tune-up week", "body_fr": "", "send_at": ""},
    )
    location = response.headers.get("Location", "")
    page = client.get(location).text if location else response.text
    [question] = re.findall(r'id="campaign-cancel"\s*data-confirm="([^"]*)"', page)
    assert question.startswith("Cancel the campaign?")
