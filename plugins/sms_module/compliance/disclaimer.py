"""The first-SMS disclaimer (PRODUCT.md §5): before the first SMS a phone receives from a
shop, a message saying who writes, why, and how to stop. The text sent is kept in the
consent ledger."""

from __future__ import annotations

import enum

from sqlalchemy import select

from host.api import Company, Customer, db, utcnow
from plugins.sms_module.models import (
    ConsentEvent,
    ConsentKind,
    Kind,
    SmsMessage,
    Source,
    Status,
    lifecycle,
)
from plugins.sms_module.models.codes import Step
from plugins.sms_module.texts import templates
from plugins.sms_module.texts.pricing import new_message

KIND = Kind.DISCLAIMER
REACHED_CARRIER = (Status.SENT, Status.DELIVERED, Status.UNDELIVERED)
PENDING = (Status.ACCEPTED, Status.SCHEDULED, Status.QUEUED, Status.SENDING)


class State(enum.StrEnum):
    SENT = "sent"  # it reached the carrier: messages after it may go
    PENDING = "pending"  # it is on its way: messages after it wait


def state(company_id: int, phone: str) -> State | None:
    """Say whether the shop's disclaimer to ``phone`` went (``SENT``), is on its way
    (``PENDING``), or has to be written (``None``)."""
    statuses = set(
        db.session.scalars(
            select(SmsMessage.status).where(
                SmsMessage.company_id == company_id,
                SmsMessage.phone == phone,
                SmsMessage.kind == KIND,
            )
        )
    )
    if statuses & set(REACHED_CARRIER):
        return State.SENT
    if statuses & set(PENDING):
        return State.PENDING
    return None


def message_for(company: Company, customer: Customer, phone: str) -> SmsMessage:
    """Build (not commit) the disclaimer message for ``phone``, due now."""
    language = templates.message_language(customer, company)
    return new_message(
        company, customer, phone, templates.disclaimer_text(company, language), KIND, utcnow()
    )


def must_precede(kind: str, to_customer: bool) -> bool:
    """Tell whether a message of ``kind`` goes only after the phone's disclaimer (§5): every
    message to a customer but the disclaimer itself and the answer to STOP, START or HELP
    (the phone asked for it). A message to the shop's own staff needs none."""
    return to_customer and kind not in (KIND, Kind.KEYWORD_ANSWER)


def needed(company_id: int, phone: str, kind: str, to_customer: bool) -> bool:
    """Tell whether a message of ``kind`` to ``phone`` must wait for a disclaimer that is not
    written yet: it needs one (``must_precede``) and none went or is on its way (§5)."""
    return must_precede(kind, to_customer) and state(company_id, phone) is None


def schedule_first(company: Company, customer: Customer | None, phone: str) -> SmsMessage:
    """Add the phone's disclaimer to the session, Scheduled and due now, so it goes before
    the message that needed it (the caller commits and hands it to the outbox)."""
    first = message_for(company, customer, phone)
    lifecycle.start(first, Status.ACCEPTED, Source.MODULE, Step.DISCLAIMER)
    lifecycle.move(first, Status.SCHEDULED, Source.MODULE)
    db.session.add(first)
    return first


def record_sent(message: SmsMessage) -> None:
    """Keep the disclaimer's text in the consent ledger once the carrier has it."""
    if message.kind != KIND or message.customer_id is None:
        return
    already = db.session.scalar(
        select(ConsentEvent.id).where(
            ConsentEvent.kind == ConsentKind.DISCLAIMER_SENT,
            ConsentEvent.reference == message.provider_sid,
        )
    )
    if already:
        return
    db.session.add(
        ConsentEvent(
            company_id=message.company_id,
            customer_id=message.customer_id,
            phone=message.phone,
            kind=ConsentKind.DISCLAIMER_SENT,
            text=message.body,
            reference=message.provider_sid,
            obtained_at=utcnow(),
            recorded_at=utcnow(),
        )
    )
