"""The operator's sender numbers page: the pools listed, numbers added, rates set."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from host.extensions import db
from plugins.sms_module.models import SenderNumber
from plugins.sms_module.sending import pools
from tests.sms_module.sending.support import TRANSACTIONAL
from tests.support_sms import login_en


def test_page_is_operator_only(client, shops):
    assert client.get("/sms/numbers/").status_code == 302  # to the login page
    for user in (shops["a"]["staff"], shops["a"]["admin"]):
        login_en(client, user)
        assert client.get("/sms/numbers/").status_code == 403
        assert client.post("/sms/numbers/", data={"number": "+14386017777"}).status_code == 403
        assert client.post("/sms/numbers/1/disable").status_code == 403
        assert "Sender numbers" not in client.get("/").get_data(as_text=True)
        client.post("/logout")


def test_page_lists_adds_disables_and_sets_rates(client, app, shops):
    login_en(client, "operator@example.com")
    assert "Sender numbers" in client.get("/").get_data(as_text=True)
    page = client.get("/sms/numbers/").get_data(as_text=True)
    assert page.count('data-enabled="yes"') == 8 and "+14386013643" in page

    response = client.post(
        "/sms/numbers/", data={"number": "438 601 7777", "queue": "transactional", "rate": "2"}
    )
    assert response.status_code == 302
    page = client.get("/sms/numbers/").get_data(as_text=True)
    assert "+14386017777 added to the pool of the Transactional queue" in page
    with app.app_context():
        row = pools.get_number("+14386017777")
        number_id = row.id
        assert row.rate == Decimal(2)

    assert client.post(f"/sms/numbers/{number_id}/rate", data={"rate": "1.5"}).status_code == 302
    assert client.post(f"/sms/numbers/{number_id}/disable").status_code == 302
    page = client.get("/sms/numbers/").get_data(as_text=True)
    row_html = page.split(f'id="number-{number_id}"')[1].split("</tr>")[0]
    assert 'data-enabled="no"' in row_html and 'value="1.5"' in row_html
    assert client.post(f"/sms/numbers/{number_id}/enable").status_code == 302
    with app.app_context():
        assert pools.get_number("+14386017777").enabled
    assert client.post("/sms/numbers/999999/disable").status_code == 404


@pytest.mark.parametrize(
    "data, message",
    [
        ({"number": "hello", "queue": "transactional"}, "is not a phone number"),
        ({"number": "+14386017777", "queue": "bulk"}, "is not a queue"),
        ({"number": "+14386017777", "queue": "transactional", "rate": "x"}, "is not a rate"),
        (
            {"number": "+14386013562", "queue": "promotional"},
            "already in the pool of the Transactional queue",
        ),
        ({}, "is not a phone number"),
    ],
)
def test_page_refusals_are_clear(client, app, shops, data, message):
    login_en(client, "operator@example.com")
    response = client.post("/sms/numbers/", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page.replace("&#39;", "'") and 'id="sender-numbers"' in page
    if data.get("number"):
        assert f'value="{data["number"]}"' in page  # the operator's input is kept
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SenderNumber)) == 8


def test_page_refuses_a_bad_rate(client, app, shops):
    login_en(client, "operator@example.com")
    with app.app_context():
        number_id = pools.get_number(TRANSACTIONAL[0]).id
    for bad in ("0", "-2", "abc", "", "1e9"):
        response = client.post(f"/sms/numbers/{number_id}/rate", data={"rate": bad})
        assert response.status_code == 422, bad
        assert "is not a rate" in response.get_data(as_text=True)
    with app.app_context():
        assert pools.get_number(TRANSACTIONAL[0]).rate == Decimal(1)
