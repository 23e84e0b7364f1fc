"""Helpers for the reply page's tests: replies routed to a shop, message rows, page rows."""

from __future__ import annotations

import re

from sqlalchemy import select

from host.extensions import db
from plugins.sms_module import jobs
from plugins.sms_module.conversations import inbound
from plugins.sms_module.models import Direction, Kind, SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import service
from tests.support_pages import page_text
from tests.support_sms import ready_to_send

NUMBER = "+14386013562"  # the first transactional sender number
STRANGER = "+15145550177"  # a phone no shop ever wrote to


def routed_reply(shops, key: str = "a", body: str = "Oui, je passe demain", sid: str = "SMin1"):
    """Send shop ``key``'s customer an SMS, then receive the customer's answer to it (routed
    like a real one); return (phone, the number written to, the reply's id)."""
    company, customer = ready_to_send(shops, key)
    sent = service.request_send(company, customer=customer, body="Votre auto est prête")
    assert jobs.send_message(sent.id) == "sent"
    number = db.session.get(SmsMessage, sent.id).sender_number
    received = inbound.receive(sid, customer.mobile_phone, number, body)
    assert received.message.company_id == company.id  # routed to the shop
    return customer.mobile_phone, number, received.message.id


def add_message(company_id, phone, body, *, direction="outbound", status=Status.SENT, **fields):
    """Insert a message row directly (for conversations the pipeline need not build)."""
    message = SmsMessage(
        company_id=company_id,
        phone=phone,
        body=body,
        direction=direction,
        kind=Kind.INBOUND if direction == Direction.INBOUND else fields.pop("kind", "manual"),
        status=status,
        sender_number=fields.pop("sender_number", NUMBER),
        **fields,
    )
    db.session.add(message)
    db.session.commit()
    return message.id


def add_reply(company_id, phone, body, **fields):
    return add_message(
        company_id, phone, body, direction=Direction.INBOUND, status=Status.RECEIVED, **fields
    )


def message_rows() -> list[tuple]:
    db.session.expire_all()
    return db.session.execute(
        select(SmsMessage.id, SmsMessage.status, SmsMessage.failure_code).order_by(SmsMessage.id)
    ).all()


def inbox_rows(response) -> dict[str, str]:
    """Map each inbox row's phone to the row's HTML."""
    assert response.status_code == 200
    rows = re.findall(r'<tr data-phone="([^"]+)".*?</tr>', response.text, re.S)
    html = re.findall(r'(<tr data-phone="[^"]+".*?</tr>)', response.text, re.S)
    return dict(zip(rows, html, strict=True))


def conversation_rows(response) -> list[str]:
    return re.findall(r"(<tr data-direction=.*?</tr>)", page_text(response), re.S)


def seeded_conversation(shops, reply: str, key: str = "a") -> str:
    """Store a conversation of shop ``key``'s customer: our delivered SMS, then the customer's
    ``reply`` received on the first transactional number; return the customer's phone."""
    company, customer = ready_to_send(shops, key)
    for direction, body, status in (
        (Direction.OUTBOUND, "Votre auto est prête", Status.DELIVERED),
        (Direction.INBOUND, reply, Status.RECEIVED),
    ):
        db.session.add(
            SmsMessage(
                company_id=company.id,
                customer_id=customer.id,
                phone=customer.mobile_phone,
                body=body,
                direction=direction,
                kind=Kind.MANUAL if direction == Direction.OUTBOUND else Kind.INBOUND,
                status=status,
                sender_number=NUMBER,
            )
        )
    db.session.commit()
    return customer.mobile_phone
