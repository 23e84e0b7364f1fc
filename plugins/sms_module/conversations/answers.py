"""The answers to STOP, START and HELP (PRODUCT.md §5), sent from the number written to."""

from __future__ import annotations

from host.api import utcnow
from plugins.sms_module.models import Kind, Queue, SmsMessage, Source, Status, lifecycle
from plugins.sms_module.texts import templates
from plugins.sms_module.texts.defaults import answer_text
from plugins.sms_module.texts.pricing import new_message


def answer(company, customer, phone: str, number: str, word: str) -> SmsMessage:
    """Build the Scheduled answer to keyword ``word`` (the caller adds and commits it)."""
    language = templates.message_language(customer, company) if company else None
    message = new_message(
        company,
        customer,
        phone,
        answer_text(word, company, language),
        Kind.KEYWORD_ANSWER,
        utcnow(),
        Queue.TRANSACTIONAL,
    )
    message.sender_number = number  # answered from the number the phone wrote to
    lifecycle.start(message, Status.ACCEPTED, Source.MODULE, f"answer to {word.upper()}")
    lifecycle.move(message, Status.SCHEDULED, Source.MODULE)
    return message
