"""What a campaign will send and cost, before it goes: per language, the whole text a
customer receives (the shop's name and how to unsubscribe included), its segments, the
phones it reaches and the first-SMS disclaimers they get first, all in the cost."""

from __future__ import annotations

from decimal import Decimal

from host.extensions import db
from host.models import Company
from plugins.sms_module import campaigns
from tests.sms_module.campaigns.support import add_customer, footer_en, footer_fr
from tests.support_sms import ready_to_send

OFFER = "a" * 140  # one segment alone; two with the line that names the shop (§8)
OFFRE = "Mise au point: 15 % de rabais en avril. Réservez en ligne ou appelez-nous."


def shop_b_audience(shops) -> Company:
    """Shop B (Ontario, English): its customer (consent, texted before), a French-speaking
    one with consent whom the shop never texted, an English-speaking one without consent."""
    company, _customer = ready_to_send(shops, "b")
    add_customer(company.id, "Fr", "+14165550231", language="fr")
    add_customer(company.id, "En", "+14165550232", language="en", consent=False)
    return db.session.get(Company, company.id)


def test_the_review_counts_every_language_with_its_footer_and_disclaimers(app, shops):
    with app.app_context():
        shop = shop_b_audience(shops)
        estimate = campaigns.estimate(shop, OFFER, OFFRE, None)
        english, french = estimate.lines
        assert english.language == "en" and english.text == OFFER + footer_en("Garage B")
        assert (english.customers, english.phones, english.first_time) == (2, 1, 0)
        assert english.segments == 2  # the footer is counted: 140 + 37 characters
        assert english.cost == Decimal("0.0200")
        assert french.language == "fr" and french.text == OFFRE + footer_fr("Garage B")
        assert (french.customers, french.phones, french.first_time) == (1, 1, 1)
        assert (french.segments, french.disclaimer_segments) == (1, 1)
        assert french.disclaimer.startswith("Garage B vous enverra des textos")
        assert french.cost == Decimal("0.0200")  # the message and the disclaimer before it
        assert (estimate.customers, estimate.phones, estimate.first_time) == (3, 2, 1)
        assert (estimate.total, estimate.segments) == (Decimal("0.04"), 2)


def test_without_a_french_text_everybody_gets_the_main_one_with_their_own_footer(app, shops):
    with app.app_context():
        shop = shop_b_audience(shops)
        french = campaigns.estimate(shop, "Tune-up", "  ", "fr")
        [line] = french.lines
        assert line.text == "Tune-up" + footer_fr("Garage B")
        assert french.as_json()["lines"][0]["text"] == line.text
        assert french.as_json()["cost"] == "0.02"


def test_a_text_too_long_with_its_footer_costs_nothing_and_says_why(app, shops):
    with app.app_context():
        shop = shop_b_audience(shops)
        [line] = campaigns.estimate(shop, "a" * 1590, None, "en").lines
        assert line.error == (
            "With the shop's name and how to unsubscribe, the message has 1627 characters; "
            "the limit is 1600."
        )
        assert line.cost == 0
