"""Fair, prioritised sending (issue 14, point 1): two shops on one sender number take turns,
a shop's interactive message passes its own bulk, and a campaign's first-contact
disclaimers go on the promotional side."""

from decimal import Decimal

import pytest
from sqlalchemy import select, update

from host.extensions import db
from plugins.sms_module import jobs
from plugins.sms_module.models import (
    Kind,
    Queue,
    SenderNumber,
    SmsMessage,
    SmsStatusChange,
)
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import fairness, service
from tests.support_pipeline import in_process_app
from tests.support_sms import ready_to_send

BURST = 30


@pytest.fixture
def app(make_app, redis_url):
    # One backlog run sends everything due; the only enabled number is fast.
    return in_process_app(make_app, SMS_BATCH_SECONDS=30)


def one_number(queue: Queue = Queue.TRANSACTIONAL) -> str:
    """Leave one enabled number in ``queue``'s pool, fast enough for a quick test."""
    numbers = list(
        db.session.scalars(
            select(SenderNumber).where(SenderNumber.queue == queue).order_by(SenderNumber.id)
        )
    )
    for n in numbers:
        n.enabled = n is numbers[0]
    numbers[0].rate = Decimal(500)
    db.session.commit()
    return numbers[0].number


def send_order() -> list[int]:
    """Message ids in the order they reached Sending."""
    return list(
        db.session.scalars(
            select(SmsStatusChange.message_id)
            .where(SmsStatusChange.status == Status.SENDING)
            .order_by(SmsStatusChange.id)
        )
    )


def warm_up(company, customer) -> None:
    """A first message, so the phone's conversation sticks to the pool's number."""
    first = service.request_send(company, customer=customer, body="Bonjour")
    assert jobs.send_message(first.id) == "sent"


def test_a_shop_waits_one_turn_not_behind_another_shops_backlog(app, shops):
    """Shop A queues 30 messages on the only number, then shop B one: B's goes within
    the first turns (the job's own message, one of A's, then B's), not 31st."""
    with app.app_context():
        number = one_number()
        a, a_customer = ready_to_send(shops, "a")
        b, b_customer = ready_to_send(shops, "b")
        warm_up(a, a_customer)
        warm_up(b, b_customer)
        before = len(send_order())
        burst = [
            service.request_send(a, customer=a_customer, body=f"promo {i}").id for i in range(BURST)
        ]
        small = service.request_send(b, customer=b_customer, body="Votre auto est prête").id
        assert jobs.send_message(burst[0]) == "sent"
        order = send_order()[before:]
        assert set(order) == {*burst, small}
        # The job's own message, then one turn of A, then B: one turn per other busy shop.
        assert order.index(small) <= 2, order
        sent = db.session.scalars(select(SmsMessage.sender_number).where(SmsMessage.id == small))
        assert sent.one() == number


def test_within_a_shop_interactive_messages_pass_its_bulk(app, shops):
    """API posts are bulk; a staff message queued after 30 of them goes next."""
    with app.app_context():
        one_number()
        a, a_customer = ready_to_send(shops, "a")
        warm_up(a, a_customer)
        before = len(send_order())
        bulk = [
            service.request_send(a, customer=a_customer, body=f"api {i}", kind=Kind.API).id
            for i in range(BURST)
        ]
        urgent = service.request_send(a, customer=a_customer, body="Votre auto est prête").id
        assert jobs.send_message(bulk[0]) == "sent"
        order = send_order()[before:]
        assert order.index(urgent) <= 1, order


def test_the_tags_take_turns_per_number_and_restart_at_the_numbers_clock(app, shops):
    """The tags themselves: a shop with nothing waiting starts at the number's virtual
    time, right behind the head of another shop's backlog."""
    with app.app_context():
        one_number()
        a, a_customer = ready_to_send(shops, "a")
        b, b_customer = ready_to_send(shops, "b")
        warm_up(a, a_customer)
        warm_up(b, b_customer)
        burst = [
            service.request_send(a, customer=a_customer, body=f"promo {i}").id for i in range(5)
        ]
        assert fairness.stamp_due(Queue.TRANSACTIONAL) == 5
        small = service.request_send(b, customer=b_customer, body="Prête").id
        assert fairness.stamp_due(Queue.TRANSACTIONAL) == 1
        tags = dict(
            db.session.execute(
                select(SmsMessage.id, SmsMessage.fair_tag).where(SmsMessage.id.in_([*burst, small]))
            ).all()
        )
        a_tags = [tags[i] for i in burst]
        assert a_tags == sorted(a_tags) and len(set(a_tags)) == 5
        assert a_tags[0] <= tags[small] < a_tags[1]


def test_a_message_held_for_the_night_loses_its_turn_until_due(app, shops):
    with app.app_context():
        a, a_customer = ready_to_send(shops, "a")
        message_id = service.request_send(a, customer=a_customer, body="x").id
        assert fairness.stamp_due(Queue.TRANSACTIONAL) == 1
        message = db.session.get(SmsMessage, message_id)
        assert message.fair_tag is not None
        # Not due any more (as the night hold does): untagged, and not tagged again yet.
        from datetime import timedelta

        from host.models import utcnow

        db.session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == message_id)
            .values(fair_tag=None, send_at=utcnow() + timedelta(hours=8))
        )
        db.session.commit()
        assert fairness.stamp_due(Queue.TRANSACTIONAL) == 0


def test_a_campaigns_first_contact_disclaimer_goes_on_the_promotional_side(app, shops):
    """The disclaimer a campaign message needs travels with it: promotional queue, bulk
    class, never on the transactional numbers (issue 14)."""
    with app.app_context():
        a, a_customer = ready_to_send(shops, "a", disclaimed=False)
        promo = service.request_send(
            a, customer=a_customer, body="Soldes -20 %", queue="promotional", campaign=True
        )
        first = db.session.scalars(
            select(SmsMessage).where(
                SmsMessage.company_id == a.id,
                SmsMessage.phone == promo.phone,
                SmsMessage.kind == Kind.DISCLAIMER,
            )
        ).one()
        assert first.queue == Queue.PROMOTIONAL
        assert first.id < promo.id
        assert fairness.flow_class(first.kind, first.queue) == fairness.BULK
        # A transactional message's disclaimer stays transactional.
        b, b_customer = ready_to_send(shops, "b", disclaimed=False)
        note = service.request_send(b, customer=b_customer, body="Votre auto est prête")
        b_first = db.session.scalars(
            select(SmsMessage).where(
                SmsMessage.phone == note.phone, SmsMessage.kind == Kind.DISCLAIMER
            )
        ).one()
        assert b_first.queue == Queue.TRANSACTIONAL
