"""The answers to STOP, START and HELP (PRODUCT.md §5), sent from the number written to."""

from __future__ import annotations

from host.api import Company, utcnow
from plugins.sms_module.models import Kind, Queue, SmsMessage, Source, Status, lifecycle
from plugins.sms_module.texts import templates
from plugins.sms_module.texts.pricing import new_message


def answer_text(word: str, company: Company | None, language: str | None) -> str:
    """Return the answer to STOP, START or HELP, in the shop's language (both when unknown)."""
    name = company.name.strip() if company is not None else None
    english = {
        "stop": "You are unsubscribed and will receive no more SMS from us. Reply START to "
        "subscribe again.",
        "start": "You are subscribed again. Reply STOP to unsubscribe.",
        "help": (f"{name}: " if name else "")
        + "SMS about your appointments, vehicle and invoices. Reply STOP to unsubscribe.",
    }[word]
    french = {
        "stop": "Vous êtes désabonné et ne recevrez plus de textos de notre part. Répondez "
        "DEBUT pour vous réabonner.",
        "start": "Vous êtes réabonné. Répondez ARRET pour vous désabonner.",
        "help": (f"{name} : " if name else "")
        + "textos au sujet de vos rendez-vous, de votre véhicule et de vos factures. "
        "Répondez ARRET pour vous désabonner.",
    }[word]
    if language == "fr":
        return french
    if language == "en":
        return english
    return f"{english} / {french}"


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
