"""Sender pools: the seeded numbers, sticky sender choice, the CLI and the operator's page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from host.extensions import db
from host.models import Company
from plugins.sms_module.models import Conversation, Queue, SenderNumber
from plugins.sms_module.sending import pools
from tests.support_sms import login_en

TRANSACTIONAL = [
    "+14386013562",
    "+14386013492",
    "+14386011668",
    "+14386011575",
    "+14386014488",
    "+14386013998",
]
PROMOTIONAL = ["+14386013549", "+14386013643"]
PHONE = "+15145550199"


def numbers_of(queue):
    return [n.number for n in pools.pool(queue)]


def new_shop(name: str) -> int:
    shop = Company(name=name, country="CA", province="QC")
    db.session.add(shop)
    db.session.commit()
    return shop.id


def test_the_guide_pools_are_seeded(app):
    with app.app_context():
        assert numbers_of(Queue.TRANSACTIONAL) == TRANSACTIONAL
        assert numbers_of("promotional") == PROMOTIONAL
        assert {n.rate for n in pools.all_numbers()} == {Decimal(1)}


def test_sticky_sender_keeps_the_number(app, shops):
    with app.app_context():
        a = shops["a"]["shop"]
        first = pools.sender_for(a, PHONE, Queue.TRANSACTIONAL)
        db.session.commit()
        # Another conversation makes ``first`` the more used number: the phone still keeps it.
        pools.sender_for(a, "+15145550100", Queue.TRANSACTIONAL)
        db.session.commit()
        assert pools.sender_for(a, PHONE, "transactional").id == first.id
        promotional = pools.sender_for(a, PHONE, Queue.PROMOTIONAL)
        assert promotional.queue == Queue.PROMOTIONAL  # each pool has its own conversation
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 3


def test_new_conversations_spread_over_the_least_used_numbers(app, shops):
    with app.app_context():
        a = shops["a"]["shop"]
        chosen = [
            pools.sender_for(a, f"+1514555{i:04d}", Queue.TRANSACTIONAL).number for i in range(12)
        ]
        assert chosen[:6] == TRANSACTIONAL and chosen[6:] == TRANSACTIONAL


def test_prefers_a_number_free_of_other_shops_for_that_phone(app, shops):
    with app.app_context():
        a, b = shops["a"]["shop"], shops["b"]["shop"]
        c = new_shop("Garage C")
        taken_by_a = pools.sender_for(a, PHONE, Queue.PROMOTIONAL)
        # Make the other number the more used one: b must still avoid a's number for PHONE.
        other = next(n for n in pools.pool("promotional") if n.id != taken_by_a.id)
        for i in range(3):
            db.session.add(
                Conversation(
                    company_id=c,
                    phone=f"+1514555{i:04d}",
                    queue=Queue.PROMOTIONAL,
                    sender_number_id=other.id,
                )
            )
        db.session.commit()
        for_b = pools.sender_for(b, PHONE, Queue.PROMOTIONAL)
        assert for_b.id == other.id
        db.session.commit()
        # Every number now talks to PHONE for another shop: the least used one is taken.
        for_c = pools.sender_for(c, PHONE, Queue.PROMOTIONAL)
        assert for_c.id == taken_by_a.id
        db.session.commit()
        rows = db.session.scalars(select(Conversation).where(Conversation.phone == PHONE)).all()
        assert {(r.company_id, r.sender_number_id) for r in rows} == {
            (a, taken_by_a.id),
            (b, other.id),
            (c, taken_by_a.id),
        }


def test_disabled_numbers_are_skipped_and_conversations_move(app, shops):
    with app.app_context():
        a = shops["a"]["shop"]
        first = pools.sender_for(a, PHONE, Queue.PROMOTIONAL)
        db.session.commit()
        pools.disable_number(first.number)
        assert first.number not in numbers_of("promotional")
        moved = pools.sender_for(a, PHONE, Queue.PROMOTIONAL)
        db.session.commit()
        assert moved.id != first.id and moved.enabled
        conversation = db.session.scalar(select(Conversation).where(Conversation.phone == PHONE))
        assert conversation.sender_number_id == moved.id
        # Re-enabled, the first number does not steal the conversation back.
        pools.enable_number(first.number)
        assert pools.sender_for(a, PHONE, Queue.PROMOTIONAL).id == moved.id
        pools.disable_number(PROMOTIONAL[0])
        pools.disable_number(PROMOTIONAL[1])
        with pytest.raises(pools.PoolError, match="no enabled number"):
            pools.sender_for(a, "+15145550111", Queue.PROMOTIONAL)


def test_a_concurrent_conversation_wins_and_is_kept(app, shops, monkeypatch):
    with app.app_context():
        a = shops["a"]["shop"]
        # Another worker committed the conversation after this one looked and found none.
        other = pools.pool("transactional")[3]
        db.session.add(
            Conversation(company_id=a, phone=PHONE, queue=Queue.TRANSACTIONAL, sender_number=other)
        )
        db.session.commit()
        original = pools._conversation
        calls = []

        def stale_once(*args):
            calls.append(args)
            return None if len(calls) == 1 else original(*args)

        monkeypatch.setattr(pools, "_conversation", stale_once)
        chosen = pools.sender_for(a, PHONE, Queue.TRANSACTIONAL)
        db.session.commit()
        assert chosen.id == other.id and len(calls) == 2
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 1


def test_pool_changes_are_validated(app):
    with app.app_context():
        row = pools.add_number("(438) 601-9999", "Promotional", "2.5")
        assert (row.number, row.queue, row.rate, row.enabled) == (
            "+14386019999",
            Queue.PROMOTIONAL,
            Decimal("2.5"),
            True,
        )
        for args, message in [
            (("+14386019999", "transactional"), "already in the promotional pool"),
            (("12", "transactional"), "is not a phone number"),
            (("+14386019998", "marketing"), "is not a queue"),
            (("+14386019998", "transactional", "0"), "is not a rate"),
            (("+14386019998", "transactional", "-1"), "is not a rate"),
            (("+14386019998", "transactional", "1001"), "is not a rate"),
            (("+14386019998", "transactional", "fast"), "is not a rate"),
            (("+14386019998", "transactional", "nan"), "is not a rate"),
            (("+14386019998", "transactional", "0.0001"), "3 decimals"),
        ]:
            with pytest.raises(pools.PoolError, match=message):
                pools.add_number(*args)
        with pytest.raises(pools.PoolError, match="in no pool"):
            pools.disable_number("+14386019998")
        assert pools.set_rate("438 601 3562", "20").rate == Decimal(20)
        assert db.session.scalar(select(func.count()).select_from(SenderNumber)) == 9


def test_cli_lists_adds_disables_enables_and_sets_rates(runner, app):
    result = runner.invoke(args=["sms", "numbers", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 9 and "+14386013549  promotional" in result.output
    assert "never" in lines[1] and "enabled" in lines[1]

    result = runner.invoke(
        args=["sms", "numbers", "add", "+1 438 601 7777", "--queue", "promotional", "--rate", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "Added +14386017777 (promotional, 3 segment(s)/s, enabled)" in result.output
    result = runner.invoke(args=["sms", "numbers", "rate", "4386017777", "0.5"])
    assert result.exit_code == 0 and "0.5 segment(s)/s" in result.output
    result = runner.invoke(args=["sms", "numbers", "disable", "+14386017777"])
    assert result.exit_code == 0 and "Disabled" in result.output
    with app.app_context():
        row = db.session.scalar(select(SenderNumber).where(SenderNumber.number == "+14386017777"))
        assert (row.enabled, row.rate) == (False, Decimal("0.5"))
    assert runner.invoke(args=["sms", "numbers", "enable", "+14386017777"]).exit_code == 0
    with app.app_context():
        assert "+14386017777" in numbers_of("promotional")


@pytest.mark.parametrize(
    "args, message",
    [
        (["add", "nope", "--queue", "transactional"], "is not a phone number"),
        (["add", "+14386017777", "--queue", "bulk"], "is not a queue"),
        (["add", "+14386013562", "--queue", "transactional"], "already in the transactional"),
        (["rate", "+14386013562", "0"], "is not a rate"),
        (["rate", "+14386017777", "1"], "in no pool"),
        (["disable", "x"], "is not a phone number"),
    ],
)
def test_cli_refusals_are_clear(runner, args, message):
    result = runner.invoke(args=["sms", "numbers", *args])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_warns_when_a_pool_is_left_empty(runner):
    assert runner.invoke(args=["sms", "numbers", "disable", PROMOTIONAL[0]]).exit_code == 0
    result = runner.invoke(args=["sms", "numbers", "disable", PROMOTIONAL[1]])
    assert result.exit_code == 0 and "no enabled number left" in result.output


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
    assert "+14386017777 added to the transactional pool" in page
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
        ({"number": "+14386013562", "queue": "promotional"}, "already in the transactional"),
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
