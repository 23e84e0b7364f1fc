"""A campaign's test send (issue 11): the message as a customer receives it, to a phone of
the shop's own, with no consent record needed, yet under the opt-out list and the
module-on rules; never counted as the campaign's outcome."""

from __future__ import annotations

from datetime import datetime

import pytest

from host.extensions import db
from plugins.sms_module import campaigns, jobs
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import Queue, SmsCampaign, SmsMessage
from plugins.sms_module.models.campaigns import CampaignStatus
from plugins.sms_module.sending import service
from tests.sms_module.campaigns.support import (
    ZONE,
    add_customer,
    count,
    footer_en,
    footer_fr,
    new_campaign,
)
from tests.support_pipeline import carrier, message
from tests.support_sms import module_on

SHOP_CELL = "+15145550999"  # the shop owner's own cell: no customer has it


def draft(shops, **fields) -> SmsCampaign:
    module_on(shops["a"]["shop"])
    cid = new_campaign(
        shops["a"]["shop"], body="Tires 10% off", status=CampaignStatus.DRAFT, **fields
    )
    return db.session.get(SmsCampaign, cid)


def test_a_test_goes_to_the_shops_phone_as_a_customer_receives_it(app, shops):
    with app.app_context():
        campaign = draft(shops, body_fr="Pneus: 10 % de rabais")
        sent = campaigns.send_test(campaign, "514 555 0999", "fr", "a1b2c3d4", None)
        assert (sent.phone, sent.customer_id, sent.campaign_id) == (SHOP_CELL, None, None)
        assert (sent.kind, sent.queue) == ("campaign", Queue.PROMOTIONAL)
        assert sent.body == "Pneus: 10 % de rabais" + footer_fr()
        # No consent record, no disclaimer: it goes at once, from a promotional number.
        assert jobs.send_message(sent.id) == "sent" and carrier(app).sent_count() == 1
        english = campaigns.send_test(campaign, SHOP_CELL, "en", "e5f6a7b8", None)
        assert english.body == "Tires 10% off" + footer_en()
        # The same form submitted twice sends once.
        again = campaigns.send_test(campaign, SHOP_CELL, "en", "e5f6a7b8", None)
        assert again.id == english.id
        assert [m.id for m in campaigns.tests_of(campaign)] == [english.id, sent.id]
        # Not the campaign's outcome: no message counted, no cost.
        found = campaigns.outcomes([campaign.id])[campaign.id]
        assert found.messages == 0 and found.cost == 0
        assert campaign.status == CampaignStatus.DRAFT


def test_a_test_obeys_the_opt_out_list_and_the_module(app, shops):
    with app.app_context():
        campaign = draft(shops)
        opt_out.opt_out(SHOP_CELL, "sms_keyword", None, "STOP")
        db.session.commit()
        before = count(SmsMessage)
        with pytest.raises(service.SendRefused) as refused:
            campaigns.send_test(campaign, SHOP_CELL, "en", "00000001", None)
        assert refused.value.code == "opted_out"
        module_on(shops["a"]["shop"], enabled=False)
        with pytest.raises(service.SendRefused) as refused:
            campaigns.send_test(campaign, "+15145550998", "en", "00000002", None)
        assert refused.value.code == "module_off"
        assert count(SmsMessage) == before


def test_a_test_refuses_a_bad_number_and_a_customer_without_consent(app, shops):
    with app.app_context():
        campaign = draft(shops)
        with pytest.raises(campaigns.NotAllowed, match="Enter the phone number"):
            campaigns.send_test(campaign, "12", "en", "00000003", None)
        # Shop A's own customer gave no consent: a "test" cannot reach a customer's phone.
        with pytest.raises(campaigns.NotAllowed, match="Client A, who gave no consent"):
            campaigns.send_test(campaign, "+15145550101", "en", "00000004", None)
        consenting = add_customer(shops["a"]["shop"], "Owner", "+15145550997")
        sent = campaigns.send_test(campaign, "+15145550997", "en", "00000005", None)
        assert sent.customer_id is None and consenting  # the shop's own message still
        db.session.get(SmsCampaign, campaign.id).status = CampaignStatus.CANCELED
        db.session.commit()
        with pytest.raises(campaigns.NotAllowed, match="canceled"):
            campaigns.send_test(campaign, SHOP_CELL, "en", "00000006", None)


def test_a_test_at_night_waits_for_the_morning(app, shops, time_machine):
    time_machine.move_to(datetime(2026, 12, 1, 22, 30, tzinfo=ZONE), tick=True)
    with app.app_context():
        campaign = draft(shops)
        sent = campaigns.send_test(campaign, SHOP_CELL, "en", "00000007", None)
        assert sent.send_at.astimezone(ZONE).replace(tzinfo=None) == datetime(2026, 12, 2, 8, 0)
        assert message(sent.id).status.value == "scheduled"
