"""The operator's screens (issue 12, point 8): the SMS pages without a shop picked, the price
per segment and its currency, the sender numbers a pool accepts, and the confirmations
asked before a destructive click."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from host.extensions import db
from plugins.sms_module.api import tokens
from plugins.sms_module.models import Queue, SenderNumber
from plugins.sms_module.sending import pools
from plugins.sms_module.texts import pricing
from tests.support_pages import page_text
from tests.support_sms import login_en


def test_sms_settings_ask_the_operator_to_pick_a_shop_with_a_list(client, shops):
    login_en(client, "operator@example.com")
    response = client.get("/sms/settings/")
    assert response.status_code == 200
    assert re.findall(r'<tr data-shop-id="(\d+)"', response.text) == [
        str(shops["a"]["shop"]),
        str(shops["b"]["shop"]),
    ]
    assert 'name="next" value="/sms/settings/"' in response.text
    picked = client.post(f"/shops/{shops['a']['shop']}/pick", data={"next": "/sms/settings/"})
    assert picked.headers["Location"] == "/sms/settings/"
    assert "REST API tokens" in client.get("/sms/settings/").text


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("0", "CAD", "The price per segment is above zero, e.g. 0.0100."),
        ("0.00000", "CAD", "The price per segment is above zero, e.g. 0.0100."),
        ("0.000001", "CAD", "A price per segment above zero is 0.00001 at least."),
        ("0.01", "XYZ", "XYZ is not a currency in use (ISO 4217)"),
        ("0.01", "DEM", "DEM is not a currency in use (ISO 4217)"),  # withdrawn in 2002
        ("0.01", "XXX", "XXX is not a currency in use (ISO 4217)"),  # "no currency"
        ("0.01", "C4D", "The currency is a three-letter code such as CAD or USD."),
    ],
)
def test_price_and_currency_are_refused(client, app, shops, amount, currency, message):
    login_en(client, "operator@example.com")
    response = client.post(
        "/sms/settings/pricing", data={"price_per_segment": amount, "currency": currency}
    )
    assert response.status_code == 422 and message in page_text(response)
    with app.app_context():
        assert pricing.pricing() == pricing.Pricing(Decimal("0.0100"), "CAD")  # nothing saved


def test_price_is_kept_to_its_precision_and_shown_with_it(client, app, shops):
    login_en(client, "operator@example.com")
    response = client.post(
        "/sms/settings/pricing", data={"price_per_segment": "0.00835", "currency": "eur"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert pricing.pricing() == pricing.Pricing(Decimal("0.00835"), "EUR")
    page = page_text(client.get("/sms/settings/"))
    # Every stored decimal, the currency named; not rounded to cents.
    assert "Price per segment: €0.00835 (Euro)" in page


NUMBERS_REFUSED = [
    ("+15005550006", "cannot be a pool's number"),  # Twilio's magic number: a 5XX personal number
    ("+18005551234", "cannot be a pool's number"),  # toll-free
    ("+19005551234", "cannot be a pool's number"),  # premium rate
    ("+447911123456", "is not a Canadian or US number"),
    ("+18765551234", "is not a Canadian or US number"),  # Jamaica: +1, not Canada or the US
    ("+15145550123", "is reserved for fiction (555-0100 to 555-0199)"),
    ("514 555 0199", "is reserved for fiction (555-0100 to 555-0199)"),
    ("+1438601", "is not a phone number such as +1 438 601 3562."),
    ("hello", "is not a phone number such as +1 438 601 3562."),
]


@pytest.mark.parametrize(("number", "message"), NUMBERS_REFUSED)
def test_a_sender_number_must_be_a_north_american_long_code(client, app, shops, number, message):
    login_en(client, "operator@example.com")
    with app.app_context():
        before = db.session.scalar(select(func.count(SenderNumber.id)))
    response = client.post(
        "/sms/numbers/", data={"number": number, "queue": "transactional", "rate": "1"}
    )
    assert response.status_code == 422 and message in page_text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count(SenderNumber.id))) == before


@pytest.mark.parametrize("number", ["+1 438 601 7777", "+1 212 555 1234", "(416) 555-0242"])
def test_canadian_and_us_long_codes_are_accepted(client, app, shops, number):
    login_en(client, "operator@example.com")
    response = client.post(
        "/sms/numbers/", data={"number": number, "queue": "promotional", "rate": "1"}
    )
    assert response.status_code == 302


def disable_forms(html: str) -> dict[str, str]:
    """Map each number's row id to its disable form's confirmation ("" when none)."""
    found = {}
    for row_id, row in re.findall(r'<tr id="number-(\d+)"(.*?)</tr>', html, re.S):
        match = re.search(r'/disable" class="inline"\s*(?:data-confirm="([^"]*)")?', row)
        if match:
            found[row_id] = match.group(1) or ""
    return found


def test_disabling_the_last_number_of_a_pool_asks_first(client, app, shops):
    login_en(client, "operator@example.com")
    with app.app_context():
        promotional = [n.id for n in pools.pool(Queue.PROMOTIONAL)]
        transactional = [n.id for n in pools.pool(Queue.TRANSACTIONAL)]
        for number_id in promotional[1:]:
            pools.disable_number(db.session.get(SenderNumber, number_id).number)
        last = db.session.get(SenderNumber, promotional[0])
        last_number = last.number
    forms = disable_forms(client.get("/sms/numbers/").text)
    question = forms[str(promotional[0])]
    assert "the last enabled number of the pool of the Promotional queue" in question
    assert "stops sending" in forms[str(promotional[0])]
    # Other numbers go without asking: their pool keeps sending.
    assert all(forms[str(i)] == "" for i in transactional)
    client.post(f"/sms/numbers/{promotional[0]}/disable")
    assert "has no enabled number left" in page_text(client.get("/sms/numbers/"))
    with app.app_context():
        assert not pools.get_number(last_number).enabled


def test_revoking_a_token_asks_first(client, app, shops):
    with app.app_context():
        tokens.create_token(shops["a"]["shop"], "Garage's <booking> app", None)
    login_en(client, shops["a"]["admin"])
    page = client.get("/sms/settings/").text
    [question] = re.findall(r'/revoke" class="inline"\s*data-confirm="([^"]*)"', page)
    assert question.startswith("Revoke the token Garage&#39;s &lt;booking&gt; app?")


def test_sending_a_campaign_asks_first_with_its_audience(client, app, shops, time_machine):
    from tests.sms_module.campaigns.support import add_customer, daytime, form
    from tests.support_sms import ready_to_send

    daytime(time_machine)
    with app.app_context():
        ready_to_send(shops)
        add_customer(shops["a"]["shop"], "English", "+15145550221", language="en")
        add_customer(shops["a"]["shop"], "Silent", "+15145550222", consent=False)
    login_en(client, shops["a"]["admin"])
    response = client.post("/sms/campaigns/", data=form())
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).text
    [question] = re.findall(r'id="campaign-confirm"\s*data-confirm="([^"]*)"', page)
    # The customers it goes to: those with consent on record and no STOP.
    assert re.search(r'id="campaign-reachable">2<', page)
    assert question == (
        "Send the campaign to 2 customers? It cannot be called back once it has left."
    )
