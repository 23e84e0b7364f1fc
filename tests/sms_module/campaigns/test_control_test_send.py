"""A campaign's test send (issue 11): the message as a customer receives it, to a phone of
the shop's own (a number it saved in its SMS settings, never one typed in), at most five an
hour, with no consent record needed, yet under the opt-out list and the module-on rules;
never counted as the campaign's outcome. The clock is a weekday morning, shop time (the
package's ``app`` fixture), or set by the test."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from host.extensions import db
from host.redis_connection import get_queue
from plugins.sms_module import campaigns, jobs
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import Queue, SmsCampaign, SmsMessage
from plugins.sms_module.models.campaigns import CampaignStatus
from plugins.sms_module.sending import service
from tests.sms_module.campaigns.support import (
    DAY,
    SHOP_CELL,
    ZONE,
    add_customer,
    count,
    footer_en,
    footer_fr,
    new_campaign,
    save_numbers,
)
from tests.support_pipeline import carrier, message
from tests.support_sms import module_on, ready_to_send

SHOP_LINE = "+15145550998"  # the number the shop's answer to HELP gives
STRANGER = "514 555 0199"  # nobody's the shop knows


def draft(shops, numbers: bool = True, **fields) -> SmsCampaign:
    """Shop A's draft campaign; ``numbers``: the shop saved its cell (``SHOP_CELL``)."""
    module_on(shops["a"]["shop"])
    if numbers:
        save_numbers(shops["a"]["shop"])
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
        save_numbers(shops["a"]["shop"], SHOP_CELL, SHOP_LINE)
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


def refused_with_nothing_sent(app, campaign, phone: str, match: str, key: str) -> None:
    """Ask a test to ``phone``: refused with ``match``, no row, and the carrier, after every
    job on the promotional queue ran, never called."""
    before = count(SmsMessage)
    with pytest.raises(campaigns.NotAllowed, match=match):
        campaigns.send_test(campaign, phone, "en", key, None)
    for job in get_queue("promotional").get_jobs():
        job.perform()
    assert count(SmsMessage) == before
    assert carrier(app).sent_count() == 0


def test_a_test_to_a_strangers_number_is_refused(app, shops):
    """Issue 11's example: an admin types 514 555 0199, nobody the shop knows."""
    with app.app_context():
        campaign = draft(shops)
        for key in ("0000000a", "0000000b", "0000000c"):  # three times
            refused_with_nothing_sent(app, campaign, STRANGER, "choose one of the numbers", key)


def test_a_test_to_another_shops_customer_is_refused(app, shops):
    with app.app_context():
        campaign = draft(shops)
        ready_to_send(shops, "b")  # Garage B's customer consented to Garage B's texts
        theirs = "+14165550102"
        refused_with_nothing_sent(app, campaign, theirs, "choose one of the numbers", "0000000d")


def test_a_test_goes_to_either_saved_number_and_nowhere_else(app, shops):
    with app.app_context():
        campaign = draft(shops)
        save_numbers(shops["a"]["shop"], SHOP_CELL, SHOP_LINE)
        assert campaigns.own_phones(shops["a"]["shop"]) == [
            (SHOP_CELL, "forward_phone"),
            (SHOP_LINE, "contact_phone"),
        ]
        # Either saved number, as the page posts it or typed the national way.
        assert campaigns.send_test(campaign, SHOP_CELL, "en", "00000010", None).phone == SHOP_CELL
        assert campaigns.send_test(campaign, "514-555-0998", "en", "00000011", None).phone == (
            SHOP_LINE
        )
        for job in get_queue("promotional").get_jobs():
            job.perform()
        assert carrier(app).sent_count() == 2
        # One number saved twice is offered once.
        save_numbers(shops["a"]["shop"], SHOP_CELL, SHOP_CELL)
        assert campaigns.own_phones(shops["a"]["shop"]) == [(SHOP_CELL, "forward_phone")]
        before = count(SmsMessage)
        with pytest.raises(campaigns.NotAllowed, match="choose one of the numbers"):
            campaigns.send_test(campaign, SHOP_LINE, "en", "00000012", None)
        with pytest.raises(campaigns.NotAllowed, match="choose one of the numbers"):
            campaigns.send_test(campaign, "12", "en", "00000013", None)
        assert count(SmsMessage) == before


def test_a_shop_that_saved_no_number_is_told_where_to_save_one(app, shops):
    with app.app_context():
        campaign = draft(shops, numbers=False)
        assert campaigns.own_phones(shops["a"]["shop"]) == []
        refused_with_nothing_sent(app, campaign, SHOP_CELL, "in the SMS settings first", "00000014")
        save_numbers(shops["a"]["shop"], None, None)  # a settings row, with no number
        refused_with_nothing_sent(app, campaign, SHOP_CELL, "in the SMS settings first", "00000015")


def test_a_saved_number_that_is_a_customers_needs_the_customers_consent(app, shops):
    with app.app_context():
        campaign = draft(shops)
        # Client A's mobile saved as the shop's contact number: Client A gave no consent.
        save_numbers(shops["a"]["shop"], SHOP_CELL, "+15145550101")
        with pytest.raises(campaigns.NotAllowed, match="Client A, who gave no consent"):
            campaigns.send_test(campaign, "+15145550101", "en", "00000016", None)
        add_customer(shops["a"]["shop"], "Owner", "+15145550997")  # consents
        save_numbers(shops["a"]["shop"], "+15145550997")
        sent = campaigns.send_test(campaign, "+15145550997", "en", "00000017", None)
        assert sent.customer_id is None  # the shop's own message still
        db.session.get(SmsCampaign, campaign.id).status = CampaignStatus.CANCELED
        db.session.commit()
        with pytest.raises(campaigns.NotAllowed, match="canceled"):
            campaigns.send_test(campaign, "+15145550997", "en", "00000018", None)


def test_the_sixth_test_in_the_hour_is_refused(app, shops, time_machine):
    with app.app_context():
        campaign = draft(shops)
        other = db.session.get(SmsCampaign, new_campaign(shops["a"]["shop"], name="Other"))
        sent = [
            campaigns.send_test(campaign, SHOP_CELL, "en", f"0000010{n}", None) for n in range(5)
        ]
        before = count(SmsMessage)
        with pytest.raises(campaigns.TooManyTests, match="5 tests in the last hour"):
            campaigns.send_test(campaign, SHOP_CELL, "en", "00000105", None)
        for job in get_queue("promotional").get_jobs():
            job.perform()
        assert count(SmsMessage) == before and carrier(app).sent_count() == 5
        # The page submitted again sends nothing new and is no sixth test.
        assert campaigns.send_test(campaign, SHOP_CELL, "en", "00000100", None).id == sent[0].id
        # Another campaign has its own five.
        assert campaigns.send_test(other, SHOP_CELL, "en", "00000200", None).id
        # An hour after the first test, one more may go.
        time_machine.move_to(DAY + timedelta(minutes=59), tick=False)
        with pytest.raises(campaigns.TooManyTests):
            campaigns.send_test(campaign, SHOP_CELL, "en", "00000106", None)
        time_machine.move_to(DAY + timedelta(hours=1, minutes=1), tick=False)
        assert campaigns.send_test(campaign, SHOP_CELL, "en", "00000107", None).id


def test_a_test_at_night_waits_for_the_morning(app, shops, time_machine):
    time_machine.move_to(datetime(2026, 12, 1, 22, 30, tzinfo=ZONE), tick=True)
    with app.app_context():
        campaign = draft(shops)
        sent = campaigns.send_test(campaign, SHOP_CELL, "en", "00000007", None)
        assert sent.send_at.astimezone(ZONE).replace(tzinfo=None) == datetime(2026, 12, 2, 8, 0)
        assert message(sent.id).status.value == "scheduled"
