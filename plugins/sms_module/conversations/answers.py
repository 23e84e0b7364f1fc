"""The answers to STOP, START and HELP (PRODUCT.md §5), sent from the number written to.

STOP's answer says who the phone stopped (every shop: the list is platform-wide) and how to
come back; HELP's names the shop, the number to call (the shop's contact number, else the
platform's ``SMS_HELP_PHONE``) and that message and data rates may apply (CTIA). The texts
are in ``texts.defaults``. A reply that asked to stop in other words is acted on by the shop
(``opt_out_on_request``), and confirmed the same way.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from host.api import Company, Customer, db, utcnow
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.conversations import limits
from plugins.sms_module.models import (
    Direction,
    Kind,
    Queue,
    ShopSmsSettings,
    SmsMessage,
    Source,
    Status,
    lifecycle,
)
from plugins.sms_module.models.codes import Step, coded
from plugins.sms_module.sending import outbox
from plugins.sms_module.texts import templates
from plugins.sms_module.texts.defaults import answer_text
from plugins.sms_module.texts.pricing import new_message


def answer(
    company: Company | None, customer: Customer | None, phone: str, number: str, word: str
) -> SmsMessage:
    """Build the Scheduled answer to keyword ``word`` (``"stop"``, ``"start"``, ``"help"``)
    for ``phone`` (E.164), sent from our ``number``; the caller adds and commits it."""
    language = templates.message_language(customer, company) if company else None
    message = new_message(
        company,
        customer,
        phone,
        answer_text(word, company, language, contact_phone(company)),
        Kind.KEYWORD_ANSWER,
        utcnow(),
        Queue.TRANSACTIONAL,
    )
    message.sender_number = number  # answered from the number the phone wrote to
    answer = coded(Step.KEYWORD_ANSWER, word.upper())
    lifecycle.start(message, Status.ACCEPTED, Source.MODULE, answer)
    lifecycle.move(message, Status.SCHEDULED, Source.MODULE)
    return message


def contact_phone(company: Company | None) -> str | None:
    """Return the number (E.164) HELP gives for ``company``: the contact number on its SMS
    settings, else the platform's ``SMS_HELP_PHONE`` (also for no shop); None when neither."""
    settings = db.session.get(ShopSmsSettings, company.id) if company is not None else None
    if settings is not None and settings.contact_phone:
        return settings.contact_phone
    return current_app.config.get("SMS_HELP_PHONE") or None


def opt_out_on_request(
    company: Company,
    customer: Customer | None,
    phone: str,
    user_id: int | None,
    raw: str | None = None,
) -> SmsMessage | None:
    """Put ``phone`` on the platform-wide opt-out list because the shop read, in a reply, a
    request to stop in other words than a keyword (FCC 47 CFR 64.1200(a)(10): "any
    reasonable means"); keep the event with ``raw``, the text that asked (default: the
    latest reply's), and confirm it once, like a STOP, from the number the phone last wrote
    to. Commits; return the confirmation, or None when the phone was already opted out
    (nothing done)."""
    if opt_out.is_opted_out(phone):
        return None
    reply = db.session.scalar(
        select(SmsMessage)
        .where(
            SmsMessage.company_id == company.id,
            SmsMessage.phone == phone,
            SmsMessage.direction == Direction.INBOUND,
        )
        .order_by(SmsMessage.id.desc())
        .limit(1)
    )
    if raw is None and reply is not None:
        raw = reply.body
    opt_out.opt_out(phone, Source.STAFF, company.id, raw)
    confirmation = None
    if reply is not None and reply.sender_number:
        limits.may_answer("stop", phone, changed=True)  # a STOP repeating it is not confirmed
        confirmation = answer(company, customer, phone, reply.sender_number, "stop")
        confirmation.created_by_id = user_id  # who read the request and acted on it
        db.session.add(confirmation)
    db.session.commit()
    if confirmation is not None:
        outbox.message_scheduled(confirmation.id)
    return confirmation
