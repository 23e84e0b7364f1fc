"""A campaign's audience: the language filter picks who is asked and who can be reached,
each phone once, and which phones get the first-SMS disclaimer before it."""

from __future__ import annotations

from host.extensions import db
from host.models import Company, Customer
from plugins.sms_module import campaigns
from tests.sms_module.campaigns.support import add_customer, campaign_messages, new_campaign
from tests.support_sms import mark_disclaimed, module_on


def test_the_language_filter_picks_the_audience(app, shops):
    with app.app_context():
        module_on(shops["a"]["shop"])
        a = shops["a"]["shop"]  # a French-speaking shop: no language on file reads French
        english = add_customer(a, "English", "+15145550211", language="en")
        french = add_customer(a, "French", "+15145550212", language="fr")
        unknown = add_customer(a, "Unknown", "+15145550213")
        silent = add_customer(a, "Silent", "+15145550214", language="en", consent=False)
        shop = db.session.get(Company, a)
        # Shop A's own customer (no language on file) has no consent.
        found = {code: (r.customers, r.phones) for code, r in campaigns.reach(shop, None).items()}
        assert found == {"en": (2, 1), "fr": (3, 2)}
        assert campaigns.reach(shop, "en")["fr"].customers == 0
        assert (
            campaigns.reach(shop, "fr")["fr"].customers,
            campaigns.reach(shop, "fr")["fr"].phones,
        ) == (3, 2)
        to_english = new_campaign(a, "Sale", language="en")
        to_french = new_campaign(a, "Solde", language="fr")
        campaigns.prepare(to_english)
        campaigns.prepare(to_french)
        asked = {m.customer_id for m in campaign_messages(to_english) if m.kind == "campaign"}
        assert asked == {english, silent}
        assert {m.customer_id for m in campaign_messages(to_french) if m.kind == "campaign"} == {
            french,
            unknown,
            shops["a"]["customer"],
        }


def test_a_shared_phone_counts_once_and_a_phone_the_shop_texted_gets_no_disclaimer(app, shops):
    with app.app_context():
        module_on(shops["a"]["shop"])
        a = shops["a"]["shop"]
        first = add_customer(a, "First", "+15145550221", language="en")
        add_customer(a, "Twin", "+15145550221", language="en")  # the same phone
        known = add_customer(a, "Known", "+15145550222", language="en")
        shop = db.session.get(Company, a)
        mark_disclaimed(shop, db.session.get(Customer, known), "+15145550222")
        english = campaigns.reach(shop, "en")["en"]
        # Three customers, two phones; only the phone the shop never texted gets the
        # disclaimer first, as the fan-out does.
        assert (english.customers, english.phones, english.first_time) == (3, 2, 1)
        cid = new_campaign(a, "Sale", language="en")
        campaigns.prepare(cid)
        sent = [m for m in campaign_messages(cid) if m.kind == "campaign"]
        assert {m.customer_id for m in sent} == {first, known}
        assert [m.phone for m in campaign_messages(cid) if m.kind == "disclaimer"] == [
            "+15145550221"
        ]
