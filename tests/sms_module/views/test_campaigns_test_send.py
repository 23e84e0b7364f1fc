"""A campaign's test send from its page (issue 11: "a test send to a phone of the shop's
own"): only to a number the shop saved in its SMS settings (a stranger's or another shop's
customer's number typed in is refused with 422, nothing stored, nothing sent); a shop with
none is shown where to save one; the sixth test of an hour is refused with 429. The clock
is a weekday morning, shop time, or set by the test."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from host.redis_connection import get_queue
from plugins.sms_module.models import SmsMessage
from tests.sms_module.campaigns.support import DAY, count, daytime, save_numbers
from tests.sms_module.views.test_campaigns_review import draft
from tests.support_pages import page_text
from tests.support_pipeline import carrier, in_process_app
from tests.support_sms import ready_to_send


@pytest.fixture
def app(make_app, redis_url, time_machine):
    """A weekday morning, shop time; the test runs the jobs."""
    daytime(time_machine)
    return in_process_app(make_app)


@pytest.mark.parametrize(
    "phone",
    ["514 555 0199", "+14165550102"],  # a stranger's; Garage B's customer's (consenting)
    ids=["stranger", "other-shops-customer"],
)
def test_a_test_to_a_number_not_the_shops_own_is_refused_with_422(app, client, shops, phone):
    cid = draft(client, app, shops)
    with app.app_context():
        ready_to_send(shops, "b")
        save_numbers(shops["a"]["shop"], "+15145550999")
        before = count(SmsMessage)
    for n in range(3):  # typed three times
        data = {"test_phone": phone, "test_language": "en", "test_key": f"abcdef0{n}"}
        response = client.post(f"/sms/campaigns/{cid}/test", data=data)
        assert response.status_code == 422
        assert 'id="campaign-test-error"' in response.text
        assert "A test goes only to a phone of the shop's own" in page_text(response)
    with app.app_context():
        assert count(SmsMessage) == before
        for job in get_queue("promotional").get_jobs():
            job.perform()
        assert carrier(app).sent_count() == 0


def test_a_shop_with_no_saved_number_is_sent_to_its_sms_settings(app, client, shops):
    cid = draft(client, app, shops)
    response = client.get(f"/sms/campaigns/{cid}")
    page = page_text(response)
    assert 'id="campaign-test"' not in page and 'name="test_phone"' not in page
    assert 'id="campaign-test-no-phone"' in page
    link = re.search(r'<a href="([^"]+)" id="campaign-test-settings">', response.text).group(1)
    assert link == "/sms/settings/#reply-forwarding"
    assert 'id="reply-forwarding"' in client.get(link).text
    with app.app_context():
        before = count(SmsMessage)
    data = {"test_phone": "+15145550999", "test_language": "en", "test_key": "abcdef01"}
    response = client.post(f"/sms/campaigns/{cid}/test", data=data)
    assert response.status_code == 422
    assert "save the shop's cell or contact number in the SMS settings" in page_text(response)
    assert 'id="campaign-test-settings"' in response.text
    with app.app_context():
        assert count(SmsMessage) == before


def test_the_sixth_test_in_an_hour_is_refused_with_429(app, client, shops, time_machine):
    cid = draft(client, app, shops)
    with app.app_context():
        save_numbers(shops["a"]["shop"], "+15145550999")
    for n in range(5):
        data = {"test_phone": "+15145550999", "test_language": "en", "test_key": f"abcdef1{n}"}
        assert client.post(f"/sms/campaigns/{cid}/test", data=data).status_code == 303
    with app.app_context():
        before = count(SmsMessage)
    data = {"test_phone": "+15145550999", "test_language": "en", "test_key": "abcdef15"}
    response = client.post(f"/sms/campaigns/{cid}/test", data=data)
    assert response.status_code == 429
    assert "This campaign had 5 tests in the last hour" in page_text(response)
    with app.app_context():
        assert count(SmsMessage) == before
    time_machine.move_to(DAY + timedelta(hours=1, minutes=1), tick=True)
    assert client.post(f"/sms/campaigns/{cid}/test", data=data).status_code == 303
