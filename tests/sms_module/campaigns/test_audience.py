"""A campaign's audience: the language filter picks who is asked and who can be reached."""

from __future__ import annotations

import pytest

from host.extensions import db
from host.models import Company
from plugins.sms_module import campaigns
from tests.sms_module.campaigns.support import (
    add_customer,
    campaign_messages,
    new_campaign,
    quiet_hours_away_from_now,
)
from tests.support_pipeline import in_process_app
from tests.support_sms import module_on


@pytest.fixture
def app(make_app, redis_url):
    """Campaigns due now are due now (no quiet hours around), one message per send job."""
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01, **quiet_hours_away_from_now())


def test_the_language_filter_picks_the_audience(app, shops):
    with app.app_context():
        module_on(shops["a"]["shop"])
        a = shops["a"]["shop"]  # a French-speaking shop: no language on file reads French
        english = add_customer(a, "English", "+15145550211", language="en")
        french = add_customer(a, "French", "+15145550212", language="fr")
        unknown = add_customer(a, "Unknown", "+15145550213")
        silent = add_customer(a, "Silent", "+15145550214", language="en", consent=False)
        counts = campaigns.audience_counts(db.session.get(Company, a))
        # Shop A's own customer (no language on file) has no consent.
        assert (counts[""].customers, counts[""].reachable) == (5, 3)
        assert (counts["en"].customers, counts["en"].reachable) == (2, 1)
        assert (counts["fr"].customers, counts["fr"].reachable) == (3, 2)
        to_english = new_campaign(a, "Sale", language="en")
        to_french = new_campaign(a, "Solde", language="fr")
        campaigns.prepare(to_english)
        campaigns.prepare(to_french)
        assert {m.customer_id for m in campaign_messages(to_english)} == {english, silent}
        assert {m.customer_id for m in campaign_messages(to_french)} == {
            french,
            unknown,
            shops["a"]["customer"],
        }
