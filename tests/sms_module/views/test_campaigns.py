"""The campaign pages (PRODUCT.md §7, §10): the form and its refusals, the audience and the
cost shown before sending, the quiet hours said, and who may see which campaign. The clock
is a weekday morning, shop time (issue 11: tests set their clock)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from host.extensions import db
from host.models import Company, utcnow
from host.redis_connection import get_queue
from plugins.sms_module import campaigns
from plugins.sms_module.compliance import rules
from plugins.sms_module.models import SmsCampaign, SmsMessage
from tests.conftest import login
from tests.sms_module.campaigns.support import (
    ZONE,
    add_customer,
    campaign_messages,
    confirm,
    count,
    daytime,
    footer_en,
    footer_fr,
    form,
    new_campaign,
)
from tests.support_pages import page_text
from tests.support_pipeline import in_process_app
from tests.support_sms import login_en, module_on, ready_to_send


@pytest.fixture
def app(make_app, redis_url, time_machine):
    """Campaigns due now are due now (a weekday morning, shop time), one message per send job."""
    daytime(time_machine)
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)


def test_the_page_moves_a_send_time_in_the_quiet_hours_and_says_so(make_app, shops, app):
    quiet = make_app(SMS_QUIET_START_HOUR=21, SMS_QUIET_END_HOUR=8)
    with quiet.app_context():
        module_on(shops["a"]["shop"])
    client = quiet.test_client()
    login_en(client, shops["a"]["admin"])
    tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
    response = client.post(
        "/sms/campaigns/",
        data={"name": "Night", "body": "Sale", "send_at": f"{tomorrow}T22:30", "language": ""},
    )
    assert response.status_code == 303
    page = page_text(client.get(response.headers["Location"]))
    # Times of day the reader's way, the zone by its name (issue 12 point 2).
    assert "falls in the quiet hours (9:00\u202fp.m. to 8:00\u202fa.m., shop time)" in page
    form = page_text(client.get("/sms/campaigns/"))
    assert "Eastern Time (Toronto)" in form
    assert "America/Toronto" not in form and "21:00" not in form
    client.get("/language/fr")
    form = page_text(client.get("/sms/campaigns/"))
    assert "21 h 00" in form and "heure de l’Est (Toronto)" in form
    assert "America/Toronto" not in form
    with quiet.app_context():
        campaign = db.session.scalar(select(SmsCampaign))
        assert campaign.send_at.astimezone(ZONE).replace(tzinfo=None) == datetime.combine(
            tomorrow + timedelta(days=1), time(8)
        )
        assert campaign.requested_send_at.astimezone(ZONE).replace(tzinfo=None) == (
            datetime.combine(tomorrow, time(22, 30))
        )
        assert "leaves at" in page and page.count("8:00") >= 1
        # A daytime one stays as typed.
    response = client.post(
        "/sms/campaigns/",
        data={"name": "Day", "body": "Sale", "send_at": f"{tomorrow}T14:00", "language": ""},
    )
    with quiet.app_context():
        day = db.session.scalar(select(SmsCampaign).where(SmsCampaign.name == "Day"))
        assert day.send_at.astimezone(ZONE).hour == 14 and day.requested_send_at is None
    assert "quiet hours" not in page_text(client.get(response.headers["Location"]))


def local_input(delta: timedelta) -> str:
    return (datetime.now(ZONE) + delta).strftime("%Y-%m-%dT%H:%M")


BAD_INPUTS = [
    ({"name": ""}, 'Name the campaign, e.g. "Winter tires".'),
    ({"name": "   "}, 'Name the campaign, e.g. "Winter tires".'),
    ({"name": "x" * 101}, "The name has 101 characters; the limit is 100."),
    ({"name": "Winter\r\nBcc: all@example.com"}, "Write this on one line"),  # e-mail subjects
    ({"body": ""}, "The message is empty: write the text to send."),
    ({"body": "  \n "}, "The message is empty: write the text to send."),
    ({"body": "a" * 1601}, "The message has 1601 characters; the limit is 1600."),
    # With the shop's name and how to unsubscribe, in French (47 characters), it is too long.
    (
        {"body": "a" * 1560},
        "With the shop's name and how to unsubscribe, the message has 1607 characters; "
        "the limit is 1600.",
    ),
    ({"body_fr": "é" * 1601}, "The message has 1601 characters; the limit is 1600."),
    ({"send_at": "tomorrow"}, "Enter the send time as a date and a time"),
    ({"send_at": "2026-13-45T10:00"}, "Enter the send time as a date and a time"),
    ({"send_at": "9999-12-31T23:59"}, "Enter the send time as a date and a time"),
    ({"send_at": "past"}, "The send time has passed"),
    ({"send_at": "far"}, "Choose a send time within a year."),
    ({"language": "de"}, "Choose the audience: all customers, English or French speakers."),
]


@pytest.mark.parametrize(("changes", "error"), BAD_INPUTS)
def test_bad_input_is_refused_with_422_its_message_and_no_row(app, client, shops, changes, error):
    if changes.get("send_at") == "past":
        changes = {"send_at": local_input(-timedelta(minutes=5))}
    elif changes.get("send_at") == "far":
        changes = {"send_at": local_input(timedelta(days=400))}
    with app.app_context():
        ready_to_send(shops)
        before = (count(SmsCampaign), count(SmsMessage))
    login_en(client, shops["a"]["admin"])
    data = {**form(name="Kept name", body="Kept body"), **changes}
    response = client.post("/sms/campaigns/", data=data)
    text = page_text(response)
    assert response.status_code == 422
    assert error in text
    for key in ("name", "body"):  # the typed values stay
        if key not in changes:
            assert f"Kept {key}" in text
    with app.app_context():
        assert (count(SmsCampaign), count(SmsMessage)) == before
        assert get_queue("promotional").count == 0


def test_a_send_time_a_moment_ago_is_now(app, client, shops):
    with app.app_context():
        ready_to_send(shops)
    login_en(client, shops["a"]["admin"])
    response = client.post("/sms/campaigns/", data=form(send_at=local_input(timedelta(0))))
    assert response.status_code == 303
    with app.app_context():
        campaign = db.session.scalar(select(SmsCampaign))
        assert abs(campaign.send_at - utcnow()) < timedelta(seconds=30)


def test_every_error_of_a_form_is_shown_at_once(app, client, shops):
    with app.app_context():
        ready_to_send(shops)
    login_en(client, shops["a"]["admin"])
    response = client.post("/sms/campaigns/", data=form(name="", body="", language="xx"))
    text = page_text(response)
    assert response.status_code == 422
    assert 'id="campaign-name-error"' in text and 'id="campaign-body-error"' in text
    assert 'id="campaign-language-error"' in text and 'id="campaign-send-at-error"' not in text


def test_a_good_campaign_is_saved_as_a_draft_then_confirmed_and_queued(app, client, shops):
    with app.app_context():
        ready_to_send(shops)
    login_en(client, shops["a"]["admin"])
    response = client.post("/sms/campaigns/", data=form(name="  Winter  ", language="fr"))
    assert response.status_code == 303
    with app.app_context():
        campaign = db.session.scalar(select(SmsCampaign))
        assert (campaign.name, campaign.language, campaign.status) == ("Winter", "fr", "draft")
        assert campaign.created_by_id == shops["a"]["admin_id"]
        assert response.headers["Location"].endswith(f"/sms/campaigns/{campaign.id}")
        assert get_queue("promotional").count == 0  # nothing goes before the confirmation
    page = page_text(client.get(response.headers["Location"]))
    assert 'Campaign "Winter" saved as a draft' in page and 'id="campaign-confirm"' in page
    # When its last message would leave, given the promotional backlog (issue 14).
    assert re.search(r'id="campaign-last-leaves">[^<]*<strong>\w{3} \d', page), page
    confirm(client, app, campaign.id)
    page = page_text(client.get(response.headers["Location"]))
    assert 'Campaign "Winter" confirmed' in page and 'data-stage="confirmed"' in page
    with app.app_context():
        [job] = get_queue("campaigns").get_jobs()  # the fan-outs' own queue (issue 14)
        assert job.func_name == "plugins.sms_module.jobs.prepare_campaign" and job.args == (
            campaign.id,
        )
        assert not campaign_messages(campaign.id)  # the job does the fan-out, not the page
        assert job.perform() == "prepared: 1 recipient(s), 0 refused"
    page = page_text(client.get(response.headers["Location"]))
    assert "1 customer(s) asked, 0 refused" in page and "Client A" in page


def test_the_form_shows_the_audience_and_the_cost_before_sending(app, client, shops):
    with app.app_context():
        ready_to_send(shops)  # Client A: French (the shop's), consent, texted before
        add_customer(shops["a"]["shop"], "English", "+15145550221", language="en")
        add_customer(shops["a"]["shop"], "Silent", "+15145550222", consent=False)
    login_en(client, shops["a"]["admin"])
    text = page_text(client.get("/sms/campaigns/"))
    assert '<span id="campaign-customers">3</span>' in text
    assert '<span id="campaign-reachable">2</span>' in text
    assert 'src="/sms/static/compose.js"' in text and 'id="sms-counter"' in text
    # After a refusal the typed body's estimate is there: each language's whole message
    # (200 characters and the line naming the shop) takes 2 segments; the English phone is
    # new to the shop and gets the disclaimer (1 segment) first: (2 + 2 + 1) × 0.0100.
    text = page_text(client.post("/sms/campaigns/", data=form(name="", body="a" * 200)))
    assert '<span id="campaign-segments">2</span>' in text
    assert '<span id="campaign-first-time">1</span>' in text
    assert '<span id="campaign-cost">$0.05</span>' in text
    assert ("a" * 200 + footer_en()) in text and ("a" * 200 + footer_fr()) in text
    text = page_text(client.post("/sms/campaigns/", data=form(name="", language="en")))
    assert '<span id="campaign-customers">1</span>' in text


def test_the_live_estimate_counts_as_the_review_does(app, client, shops):
    with app.app_context():
        ready_to_send(shops)
        add_customer(shops["a"]["shop"], "English", "+15145550221", language="en")
    login_en(client, shops["a"]["admin"])
    data = {"body": "a" * 200, "body_fr": "Pneus", "language": ""}
    found = client.post("/sms/campaigns/estimate", json=data).get_json()
    assert (found["customers"], found["reachable"], found["first_time"]) == (2, 2, 1)
    english, french = found["lines"]
    assert english["text"] == "a" * 200 + footer_en() and english["segments"] == 2
    assert french["text"] == "Pneus" + footer_fr() and french["segments"] == 1
    assert found["cost"] == "0.04" and found["currency"] == "CAD"
    bad = client.post("/sms/campaigns/estimate", json={"body": 12})
    assert bad.status_code == 400


def test_module_off_or_location_missing_refuses_with_the_send_services_messages(app, client, shops):
    login_en(client, shops["a"]["admin"])
    with app.app_context():
        off = rules.module_off_message()
        nowhere = rules.location_message()
    page = page_text(client.get("/sms/campaigns/"))
    assert off in page and 'id="campaign-form"' not in page
    response = client.post("/sms/campaigns/", data=form())
    assert response.status_code == 422 and off in page_text(response)
    with app.app_context():
        module_on(shops["a"]["shop"])
        db.session.get(Company, shops["a"]["shop"]).province = None
        db.session.commit()
    page = page_text(client.get("/sms/campaigns/"))
    assert nowhere in page and 'id="campaign-form"' not in page
    response = client.post("/sms/campaigns/", data=form())
    assert response.status_code == 422 and nowhere in page_text(response)
    with app.app_context():
        assert count(SmsCampaign) == 0 and count(SmsMessage) == 0


@pytest.mark.parametrize("who", ["staff", "operator"])
def test_staff_and_operators_get_403(app, client, shops, who):
    with app.app_context():
        ready_to_send(shops)
        cid = new_campaign(shops["a"]["shop"])
    login(client, shops["a"]["staff"] if who == "staff" else "operator@example.com")
    if who == "operator":
        with client.session_transaction() as session:
            session["shop_id"] = shops["a"]["shop"]  # even with shop A picked
    assert client.get("/sms/campaigns/").status_code == 403
    assert client.post("/sms/campaigns/", data=form()).status_code == 403
    assert client.get(f"/sms/campaigns/{cid}").status_code == 403
    assert client.get(f"/sms/campaigns/{cid}/edit").status_code == 403
    assert client.post("/sms/campaigns/estimate", json={"body": "Sale"}).status_code == 403
    for action in ("confirm", "edit", "cancel", "test"):
        assert client.post(f"/sms/campaigns/{cid}/{action}", data=form()).status_code == 403
    with app.app_context():
        assert count(SmsCampaign) == 1
        assert db.session.get(SmsCampaign, cid).status == "confirmed"
    menu = client.get("/").text
    assert "/sms/campaigns/" not in menu


def test_the_menu_offers_campaigns_to_shop_admins(client, shops):
    login_en(client, shops["a"]["admin"])
    assert 'href="/sms/campaigns/"' in client.get("/").text


def test_another_shops_campaign_is_404_and_never_listed(app, client, shops):
    with app.app_context():
        ready_to_send(shops, "a")
        ready_to_send(shops, "b")
        mine = new_campaign(shops["a"]["shop"], name="Ours in A")
        theirs = new_campaign(shops["b"]["shop"], name="Secret of B", body="B only")
        campaigns.prepare(theirs)
    login_en(client, shops["a"]["admin"])
    assert client.get(f"/sms/campaigns/{theirs}").status_code == 404
    assert client.get(f"/sms/campaigns/{mine}").status_code == 200
    listing = page_text(client.get("/sms/campaigns/"))
    assert "Ours in A" in listing and "Secret of B" not in listing
    assert f'data-campaign="{theirs}"' not in listing
