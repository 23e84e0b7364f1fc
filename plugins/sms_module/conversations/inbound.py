"""Customers' SMS to us (PRODUCT.md §9): kept once, routed to a shop, keywords acted on.

An inbound SMS is kept once (by the carrier's SID) and routed to the shop whose
conversation it answers: the last message sent to that phone from the number it was
written to. A keyword (STOP, START, HELP: §5) acts on the platform-wide opt-out list and is
answered from that same number (``answers``), at most as often as ``limits`` allows per
phone; any other reply is forwarded after the commit (``forwarding``: the sweeper gives it
its job). Replies nobody could route go to the operator. A request no column can hold (a
``whatsapp:`` sender, a SID longer than Twilio's) is refused with ``UnstorableInbound``;
NUL and lone surrogates in the text are kept as U+FFFD (issue 13).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from host.api import Company, Customer, db, utcnow
from plugins.sms_module.carriers.webhooks import clean, fits
from plugins.sms_module.compliance import keywords, opt_out
from plugins.sms_module.conversations import answers, inbound_store, limits
from plugins.sms_module.models import (
    Direction,
    Kind,
    Queue,
    SenderNumber,
    SmsMessage,
    Source,
    Status,
    lifecycle,
)
from plugins.sms_module.models.codes import Step, coded
from plugins.sms_module.sending import alone, outbox
from plugins.sms_module.texts.segments import count_segments

log = logging.getLogger(__name__)


class InvalidInbound(ValueError):
    """The carrier's request lacks what an inbound SMS needs."""


class UnstorableInbound(InvalidInbound):
    """The request is no SMS of ours: a sender, number or SID no column holds (``whatsapp:``
    senders, SIDs longer than Twilio's). The webhook answers it and logs it."""


SID_LENGTH = SmsMessage.__table__.c.provider_sid.type.length
PHONE_LENGTH = SmsMessage.__table__.c.phone.type.length


@dataclass(frozen=True)
class Received:
    """What ``receive`` did: the id of the message kept, and the keyword it carried, if
    any; ``message`` loads the message (one more statement, for the callers that show it)."""

    message_id: int
    keyword: str | None
    duplicate: bool = False

    @property
    def message(self) -> SmsMessage:
        return db.session.get(SmsMessage, self.message_id)


def receive(sid: str, phone: str, number: str, body: str) -> Received:
    """Keep the inbound SMS ``sid`` from ``phone`` to our ``number`` once, route it, act on a
    keyword; commit. A SID already kept is a repeated delivery: nothing happens again.

    A reply that is no keyword (nearly all) costs one SQL statement on PostgreSQL, two on
    SQLite (``inbound_store``), and nothing in Redis: the sweeper gives it its forward job
    within a second (``forwarding.sweep_forwards``). A keyword is acted on here, in the same
    transaction as the SMS that carried it (issue 14, point 5)."""
    sid, phone, number = clean(sid).strip(), clean(phone).strip(), clean(number).strip()
    if not sid or not phone or not number:
        raise InvalidInbound("An inbound SMS needs MessageSid, From and To.")
    _check_storable(sid, phone, number)
    body = clean(body)
    if keywords.classify(body, opted_out=True) is None:  # no keyword, opted out or not
        return _receive_reply(sid, phone, number, body)
    existing = inbound_store.kept_before(sid)
    if existing is not None:
        db.session.commit()
        return Received(existing, None, duplicate=True)
    company_id = route(phone, number)
    customer = customer_for(company_id, phone)
    message = SmsMessage(
        company_id=company_id,
        customer_id=customer.id if customer else None,
        direction=Direction.INBOUND,
        kind=Kind.INBOUND,
        phone=phone,
        body=body,
        queue=_queue_of(number),
        sender_number=number,
        provider_sid=sid,
        segments=_segments(body),
    )
    lifecycle.start(message, Status.RECEIVING, Source.PROVIDER_CALLBACK)
    received_on = coded(Step.RECEIVED_ON, number)
    lifecycle.move(message, Status.RECEIVED, Source.PROVIDER_CALLBACK, received_on)
    was_out = opt_out.is_opted_out(phone)
    word = keywords.classify(body, was_out)
    answer = None
    # Whether the list changed is decided under the row's lock, not from ``was_out`` read
    # before it: two STOPs at once get one confirmation (PRODUCT.md §5).
    changed = False
    if word == "stop":
        changed = opt_out.opt_out(phone, Source.SMS_KEYWORD, company_id, body)
    elif word == "start":
        changed = opt_out.opt_in(phone, Source.SMS_KEYWORD, company_id, body)
    if word is not None:
        message.forwarded_at = utcnow()  # a keyword is handled here: nothing to forward
    if word is not None and limits.may_answer(word, phone, changed):
        company = db.session.get(Company, company_id) if company_id else None
        answer = answers.answer(company, customer, phone, number, word)
    db.session.add(message)
    if answer is not None:
        db.session.add(answer)
    try:
        db.session.flush()
        message_id, answer_id = message.id, answer.id if answer is not None else None
        db.session.commit()
    except IntegrityError:
        # The carrier delivered the same SMS twice at the same moment: the other one kept it.
        db.session.rollback()
        existing = inbound_store.kept_before(sid)
        db.session.commit()
        if existing is None:
            raise
        return Received(existing, None, duplicate=True)
    if answer_id is not None:
        outbox.message_scheduled(answer_id)
    return Received(message_id, word)


def _receive_reply(sid: str, phone: str, number: str, body: str) -> Received:
    """Keep a reply that is no keyword (``inbound_store.keep_reply``) and commit; the
    sweeper gives it its forward job (``forwarding.sweep_forwards``)."""
    kept = inbound_store.keep_reply(sid, phone, number, body, _segments(body), utcnow())
    if kept is None:  # the carrier delivered it before (a retry, or twice at once)
        existing = inbound_store.kept_before(sid)
        db.session.commit()
        return Received(existing, None, duplicate=True)
    alone.commit()
    return Received(kept[0], None)


def _check_storable(sid: str, phone: str, number: str) -> None:
    """Raise ``UnstorableInbound`` for a SID, sender or number no column can hold as it is."""
    for name, value, length in (
        ("MessageSid", sid, SID_LENGTH),
        ("From", phone, PHONE_LENGTH),
        ("To", number, PHONE_LENGTH),
    ):
        if not fits(value, length):
            raise UnstorableInbound(f"{name} {value[:80]!r} is no SMS sender, number or SID.")


def route(phone: str, number: str) -> int | None:
    """Return the shop whose conversation a reply from ``phone`` to ``number`` answers: the
    shop of the last message sent to that phone from that number; None when there is none
    (one statement: ``inbound_store.shop_of``)."""
    return db.session.scalar(select(inbound_store.shop_of(phone, number)))


def customer_for(company_id: int | None, phone: str) -> Customer | None:
    """Return the shop's customer with that mobile phone (the first, as a send to it takes)."""
    if company_id is None:
        return None
    return db.session.scalar(
        select(Customer)
        .where(Customer.company_id == company_id, Customer.mobile_phone == phone)
        .order_by(Customer.id)
        .limit(1)
    )


def _queue_of(number: str) -> Queue:
    queue = db.session.scalar(select(SenderNumber.queue).where(SenderNumber.number == number))
    return queue or Queue.TRANSACTIONAL


def _segments(body: str) -> int:
    try:
        return count_segments(body).segments
    except ValueError:  # longer than we would send: the carrier joined many parts
        return 0
