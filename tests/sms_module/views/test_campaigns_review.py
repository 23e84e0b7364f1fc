"""A campaign's page (issue 11): the review before it goes (audience, text per language,
cost with the disclaimers) and its confirmation; the edit and the cancel until its last
message has left; a test send to the shop's own phone; afterwards its outcome and cost.
The clock is a weekday morning, shop time."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from host.extensions import db
from host.redis_connection import get_queue
from plugins.sms_module import campaigns, jobs
from plugins.sms_module.compliance import rules
from plugins.sms_module.models import SmsCampaign, SmsMessage
from plugins.sms_module.models.campaigns import CampaignStatus
from tests.sms_module.campaigns.support import (
    add_customer,
    campaign_messages,
    confirm,
    count,
    daytime,
    footer_en,
    footer_fr,
    form,
    save_numbers,
)
from tests.support_pages import page_text
from tests.support_pipeline import carrier, in_process_app
from tests.support_sms import login_en, module_on, ready_to_send


@pytest.fixture
def app(make_app, redis_url, time_machine):
    """Campaigns due now are due now (a weekday morning, shop time), one message per send job."""
    daytime(time_machine)
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


def draft(client, app, shops, **changes) -> int:
    """Shop A with its customer (French, texted before) and a new English-speaking one;
    save a draft through the form; return its id."""
    with app.app_context():
        ready_to_send(shops)
        add_customer(shops["a"]["shop"], "English", "+15145550221", language="en")
    login_en(client, shops["a"]["admin"])
    response = client.post("/sms/campaigns/", data=form(**changes))
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def statuses(cid: int) -> list[str]:
    return sorted(m.status.value for m in campaign_messages(cid) if m.kind == "campaign")


def test_the_review_shows_the_audience_each_text_and_the_cost(app, client, shops):
    cid = draft(client, app, shops, body="Tires 10% off", body_fr="Pneus: 10 % de rabais")
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    assert 'data-stage="draft"' in page
    # Each language's whole message, as its customers receive it.
    assert "Tires 10% off" + footer_en() in page
    assert "Pneus: 10 % de rabais" + footer_fr() in page
    # Two phones (one message each), one of them new to the shop: its disclaimer is counted.
    assert '<span id="campaign-reachable">2</span>' in page
    assert '<span id="campaign-first-time">1</span>' in page
    assert '<span id="campaign-cost">$0.03</span>' in page
    assert 'id="campaign-confirm"' in page and 'id="campaign-test-send"' in page


def test_a_confirmation_of_another_version_than_the_one_shown_is_refused(app, client, shops):
    cid = draft(client, app, shops)
    response = client.post(f"/sms/campaigns/{cid}/confirm", data={"reviewed": "0" * 16})
    assert response.status_code == 409
    assert "The campaign changed since this page was shown" in page_text(response)
    with app.app_context():
        assert db.session.get(SmsCampaign, cid).status == CampaignStatus.DRAFT
        assert get_queue("promotional").count == 0


def test_a_draft_is_not_confirmed_while_the_shop_may_not_send(app, client, shops):
    cid = draft(client, app, shops)
    with app.app_context():
        module_on(shops["a"]["shop"], enabled=False)
        seen = campaigns.fingerprint(db.session.get(SmsCampaign, cid))
        off = rules.module_off_message()
    response = client.post(f"/sms/campaigns/{cid}/confirm", data={"reviewed": seen})
    assert response.status_code == 409 and off in page_text(response)
    with app.app_context():
        assert db.session.get(SmsCampaign, cid).status == CampaignStatus.DRAFT


def test_a_canceled_campaigns_remaining_messages_are_canceled_end_to_end(app, client, shops):
    """Through the pages and the jobs: confirmed, fanned out, one message sent; the shop
    cancels: the others are Canceled, never reach the carrier, and the page says so."""
    cid = draft(client, app, shops)
    confirm(client, app, cid)
    with app.app_context():
        [fanout] = get_queue("campaigns").get_jobs()  # the fan-outs' own queue
        assert fanout.perform() == "prepared: 2 recipient(s), 0 refused"
        french = db.session.scalar(
            select(SmsMessage).where(
                SmsMessage.campaign_id == cid, SmsMessage.customer_id == shops["a"]["customer"]
            )
        )
        assert jobs.send_message(french.id) == "sent"
    response = client.post(f"/sms/campaigns/{cid}/cancel")
    assert response.status_code == 303
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    # The English message and its disclaimer will not leave, each counted as what it is.
    assert (
        '"Winter" canceled: 1 message(s) will not leave, nor 1 first-SMS disclaimer that was '
        "to precede them." in page
    )
    assert 'data-stage="canceled"' in page
    assert 'data-bucket="canceled">1<' in page and 'data-bucket="sent">1<' in page
    assert 'id="campaign-cancel"' not in page and 'id="campaign-edit"' not in page
    with app.app_context():
        assert statuses(cid) == ["canceled", "sent"]
        for m in campaign_messages(cid):
            jobs.send_message(m.id)
        assert carrier(app).sent_count() == 1
        assert statuses(cid) == ["canceled", "sent"]
    again = client.post(f"/sms/campaigns/{cid}/cancel")
    assert again.status_code == 409 and "canceled already" in page_text(again)


def test_once_every_message_has_left_the_page_offers_no_cancel(app, client, shops):
    cid = draft(client, app, shops)
    confirm(client, app, cid)
    with app.app_context():
        get_queue("campaigns").get_jobs()[0].perform()  # the fan-out
        for m in campaign_messages(cid):
            jobs.send_message(m.id)
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    assert 'data-stage="done"' in page and 'id="campaign-cancel"' not in page
    response = client.post(f"/sms/campaigns/{cid}/cancel")
    assert response.status_code == 409 and "nothing to stop" in page_text(response)
    assert client.get(f"/sms/campaigns/{cid}/edit").status_code == 409
    # Its actual cost: two messages and the English phone's disclaimer, one segment each.
    assert '<span id="campaign-cost-actual">$0.03</span>' in page


def test_editing_a_confirmed_campaign_makes_it_a_draft_to_review_again(app, client, shops):
    cid = draft(client, app, shops)
    confirm(client, app, cid)
    page = page_text(client.get(f"/sms/campaigns/{cid}/edit"))
    assert 'value="Winter"' in page and "becomes a draft again" in page
    response = client.post(
        f"/sms/campaigns/{cid}/edit", data=form(body="Tires 20% off", body_fr="Pneus -20 %")
    )
    assert response.status_code == 303
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    assert "review it and confirm it again" in page and 'data-stage="draft"' in page
    assert "Pneus -20 %" + footer_fr() in page
    with app.app_context():
        [old] = get_queue("campaigns").get_jobs()
        assert old.perform() == "not confirmed"
    bad = client.post(f"/sms/campaigns/{cid}/edit", data=form(name="", body=""))
    assert bad.status_code == 422 and 'id="campaign-body-error"' in page_text(bad)
    with app.app_context():
        assert db.session.get(SmsCampaign, cid).body == "Tires 20% off"


def test_editing_while_sending_changes_the_text_of_what_has_not_left(app, client, shops):
    cid = draft(client, app, shops)
    confirm(client, app, cid)
    with app.app_context():
        get_queue("campaigns").get_jobs()[0].perform()  # the fan-out
    page = page_text(client.get(f"/sms/campaigns/{cid}/edit"))
    assert "its send time and audience stay as they are" in page
    assert 'name="send_at"' not in page and 'name="language"' not in page
    # A send time or an audience posted anyway is not taken.
    data = form(body="Tires 30% off", send_at="2027-01-05T10:00", language="en")
    response = client.post(f"/sms/campaigns/{cid}/edit", data=data)
    assert response.status_code == 303
    assert "2 message(s) not sent yet got the new text" in page_text(
        client.get(f"/sms/campaigns/{cid}")
    )
    with app.app_context():
        campaign = db.session.get(SmsCampaign, cid)
        assert (campaign.language, campaign.status) == (None, CampaignStatus.SENDING)
        bodies = {m.body for m in campaign_messages(cid) if m.kind == "campaign"}
        assert bodies == {"Tires 30% off" + footer_en(), "Tires 30% off" + footer_fr()}


def test_a_test_send_from_the_page_goes_to_a_saved_number_of_the_shops(app, client, shops):
    cid = draft(client, app, shops)
    with app.app_context():
        save_numbers(shops["a"]["shop"], "+15145550999", "+15145550998")
        add_customer(shops["a"]["shop"], "Silent", "+15145550222", consent=False)
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    # The saved numbers to choose from, the cell first (chosen), as people read them.
    options = re.findall(r'<option value="(\+1\d+)"( selected)?>([^<]+)</option>', page)
    assert [(value, chosen) for value, chosen, _label in options] == [
        ("+15145550999", " selected"),
        ("+15145550998", ""),
    ]
    assert options[0][2].startswith("(514) 555-0999")
    assert 'id="campaign-test-no-phone"' not in page
    key = re.search(r'name="test_key" value="([0-9a-f]+)"', page).group(1)
    data = {"test_phone": "+15145550999", "test_language": "en", "test_key": key}
    response = client.post(f"/sms/campaigns/{cid}/test", data=data)
    assert response.status_code == 303
    assert client.post(f"/sms/campaigns/{cid}/test", data=data).status_code == 303  # twice
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    assert "Test sent to +15145550999" in page and 'id="campaign-tests"' in page
    with app.app_context():
        [test] = db.session.scalars(select(SmsMessage).where(SmsMessage.kind == "campaign"))
        assert test.body == "Tires 10% off" + footer_en() and test.campaign_id is None
        before = count(SmsMessage)
    for data, error in (
        ({"test_phone": "12", "test_language": "en"}, "choose one of the numbers saved"),
        ({"test_phone": "+15145550999", "test_language": "de"}, "Choose the language"),
        ({"test_phone": "514 555 0222", "test_language": "fr"}, "choose one of the numbers saved"),
    ):
        response = client.post(f"/sms/campaigns/{cid}/test", data=data)
        assert response.status_code == 422 and error in page_text(response)
    with app.app_context():
        assert count(SmsMessage) == before


@pytest.mark.parametrize("action", ["confirm", "cancel", "test", "edit"])
def test_another_shops_campaign_is_404_for_every_action(app, client, shops, action):
    cid = draft(client, app, shops)
    with app.app_context():
        ready_to_send(shops, "b")
        mine = db.session.get(SmsCampaign, cid)
        theirs = SmsCampaign(
            company_id=shops["b"]["shop"], name="B", body="B", status="draft", send_at=mine.send_at
        )
        db.session.add(theirs)
        db.session.commit()
        other = theirs.id
    data = {"reviewed": "", "test_phone": "+15145550999", "test_language": "en", **form()}
    assert client.post(f"/sms/campaigns/{other}/{action}", data=data).status_code == 404
    with app.app_context():
        assert db.session.get(SmsCampaign, other).status == "draft"
        assert db.session.get(SmsCampaign, other).body == "B"
        assert count(SmsMessage) == 2  # the two shops' disclaimers, no test
