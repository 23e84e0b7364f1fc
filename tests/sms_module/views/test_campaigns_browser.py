"""The campaign pages in a real browser (issue 11): the form counts the audience and the
whole cost as the admin types (each language's message with the shop's name and how to
unsubscribe, the first-SMS disclaimers); the review shows it again, a test goes to the
shop's own phone (one it saved in its SMS settings), the admin confirms, then cancels, and
sees what did not leave Canceled.

The clock is set (``time_machine``): a weekday morning in Toronto, whatever the hour of the
run, so the send time typed is never in the quiet hours (issue 11, point 8). The browser's
own clock is not moved; nothing it runs reads the time."""

from __future__ import annotations

import re

import pytest
from rq.job import Job

from host.extensions import db
from host.models import Customer
from host.redis_connection import get_queue, get_redis
from plugins.sms_module.models import SmsCampaign
from tests.sms_module.campaigns.support import DAY, campaign_messages, daytime, save_numbers
from tests.support_browser import log_in
from tests.support_pipeline import in_process_app
from tests.support_sms import give_consent, ready_to_send

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def app(make_app, redis_url, time_machine):
    """The app on a weekday morning, shop time; jobs run by the test itself."""
    daytime(time_machine)
    return in_process_app(make_app)


def shop_b_audience(app, shops) -> None:
    """Shop B (Ontario, English): its customer (consent, texted before), a French-speaking
    one with consent the shop never texted, an English-speaking one without consent."""
    with app.app_context():
        ready_to_send(shops, "b")
        b = shops["b"]["shop"]
        french = Customer(company_id=b, first_name="Fr", mobile_phone="+14165550231", language="fr")
        silent = Customer(company_id=b, first_name="En", mobile_phone="+14165550232", language="en")
        db.session.add_all([french, silent])
        db.session.commit()
        give_consent(french.id)  # the English one gave none
        save_numbers(b, "+14165550999", "+14165550998")  # the shop's cell, its HELP number


def test_admin_reviews_tests_confirms_then_cancels_a_campaign(page, serve, app, shops):
    shop_b_audience(app, shops)
    base = serve(app)
    log_in(page, base, shops["b"]["admin"])
    page.goto(f"{base}/sms/campaigns/")
    expect(page.locator("#campaign-customers")).to_have_text("3")
    expect(page.locator("#campaign-reachable")).to_have_text("2")
    page.fill("#campaign-name", "Spring tune-up")
    page.fill("#sms-body", "a" * 200)
    expect(page.locator("#sms-counter")).to_contain_text("2 segments · 200 characters")
    # Each language's whole message takes 2 segments; the French phone is new to the shop
    # and gets the disclaimer (1 segment) first: (2 + 2 + 1) × 0.0100.
    expect(page.locator("#campaign-segments")).to_have_text("2")
    expect(page.locator("#campaign-first-time")).to_have_text("1")
    expect(page.locator("#campaign-cost")).to_have_text("$0.05")
    french = page.locator('#campaign-lines tr[data-language="fr"] [data-field="text"]')
    expect(french).to_have_text("a" * 200 + "\nGarage B - Répondez ARRET pour vous désabonner")
    page.select_option("#campaign-language", "en")
    expect(page.locator("#campaign-customers")).to_have_text("2")
    expect(page.locator("#campaign-reachable")).to_have_text("1")
    expect(page.locator("#campaign-cost")).to_have_text("$0.02")
    page.fill("#sms-body", "Tune-up: 15% off in April")
    expect(page.locator("#campaign-segments")).to_have_text("1")
    expect(page.locator("#campaign-cost")).to_have_text("$0.01")
    page.select_option("#campaign-language", "")
    page.fill("#campaign-body-fr", "Mise au point: 15 % de rabais en avril")
    expect(french).to_have_text(
        "Mise au point: 15 % de rabais en avril\nGarage B - Répondez ARRET pour vous désabonner"
    )
    expect(page.locator("#campaign-cost")).to_have_text("$0.03")
    # Tomorrow at 10:00, shop time: out of the quiet hours (the clock is set).
    page.fill("#campaign-send-at", f"{DAY.date().replace(day=2).isoformat()}T10:00")
    page.click("#campaign-form button[type=submit]")

    # The review: nothing has gone yet.
    expect(page).to_have_url(re.compile(r"/sms/campaigns/\d+$"))
    campaign_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#campaign-name")).to_have_text("Spring tune-up")
    expect(page.locator("#campaign-stage")).to_have_attribute("data-stage", "draft")
    english = page.locator('#campaign-lines tr[data-language="en"] [data-field="text"]')
    expect(english).to_have_text("Tune-up: 15% off in April\nGarage B - Reply STOP to unsubscribe")
    expect(page.locator("#campaign-cost")).to_have_text("$0.03")

    # A test to the shop's own phone, in English: one of the numbers saved in its settings.
    phones = page.locator("#campaign-test-phone option")
    expect(phones).to_have_text(
        [
            "(416) 555-0999 (the cell replies are forwarded to)",
            "(416) 555-0998 (the contact number HELP gives)",
        ]
    )
    page.select_option("#campaign-test-phone", "+14165550999")
    page.select_option("#campaign-test-language", "en")
    page.click("#campaign-test button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Test sent to +14165550999")
    expect(page.locator("#campaign-tests tbody tr")).to_have_count(1)

    questions = []  # sending asks first, naming how many customers (issue 12 point 8)
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.click("#campaign-confirm button[type=submit]")
    expect(page.locator("#campaign-stage")).to_have_attribute("data-stage", "confirmed")
    assert questions and "2 customers" in questions[0], questions
    expect(page.locator(".flash")).to_contain_text('Campaign "Spring tune-up" confirmed')

    # Its fan-out runs (early: its messages wait for tomorrow 10:00), then the admin cancels.
    with app.app_context():
        [fanout] = get_queue("campaigns").scheduled_job_registry.get_job_ids()
        assert Job.fetch(fanout, connection=get_redis()).perform().startswith("prepared")
    page.reload()
    expect(page.locator('#campaign-counts [data-bucket="waiting"]')).to_have_text("2")
    cancel_questions = []  # canceling asks first too (issue 12 review, point 7)
    page.once("dialog", lambda dialog: (cancel_questions.append(dialog.message), dialog.accept()))
    page.click("#campaign-cancel button[type=submit]")
    expect(page.locator("#campaign-stage")).to_have_attribute("data-stage", "canceled")
    expect(page.locator('#campaign-counts [data-bucket="canceled"]')).to_have_text("2")
    expect(page.locator('#campaign-counts [data-bucket="waiting"]')).to_have_text("0")
    expect(page.locator('#campaign-messages tr[data-status="canceled"]')).to_have_count(2)
    expect(page.locator("#campaign-cancel")).to_have_count(0)
    assert cancel_questions and cancel_questions[0].startswith("Cancel the campaign?")
    with app.app_context():
        assert db.session.get(SmsCampaign, campaign_id).status == "canceled"
        assert {m.status.value for m in campaign_messages(campaign_id)} >= {"canceled", "failed"}
