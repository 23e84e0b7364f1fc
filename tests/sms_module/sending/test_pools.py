"""Sender pools: the seeded numbers, sticky sender choice, and changes to a pool."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from host.extensions import db
from host.models import Company
from plugins.sms_module.models import Conversation, Queue, SenderNumber
from plugins.sms_module.sending import pools
from tests.sms_module.sending.support import PROMOTIONAL, TRANSACTIONAL, numbers_of

PHONE = "+15145550199"


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
            (("+14386019999", "transactional"), "already in the pool of the Promotional queue"),
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


def test_the_cli_and_the_page_refuse_a_number_that_cannot_send_sms(app):
    """The sender-number rule lives in ``pools.add_number`` (issue 12 point 8), so every way
    in (the operator's page, ``crmhost sms numbers add``) refuses the same numbers."""
    with app.app_context():
        for number, message in [
            ("+1 800 266 8228", "long code"),  # toll-free
            ("+1 500 555 0006", "long code"),  # personal 5XX, Twilio's magic number
            ("+44 20 7946 0958", "not a Canadian or US number"),
            ("+1 876 555 1234", "not a Canadian or US number"),  # Jamaica
            ("+1 514 555 0142", "reserved for fiction"),
        ]:
            with pytest.raises(pools.PoolError, match=message):
                pools.add_number(number, "transactional")
        assert db.session.scalar(select(func.count()).select_from(SenderNumber)) == 8
