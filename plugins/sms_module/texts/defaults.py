"""The built-in texts in English and French: each event's, used until a shop writes its own,
the first-SMS disclaimer (PRODUCT.md §5) and the answers to STOP, START and HELP (§5).

Short and signed with the shop's name so the customer knows who writes; French in Quebec
style. GSM-7 where the language allows it (PRODUCT.md §8): é è à ù are in the GSM alphabet,
ê ç ô À are not, so the French texts pick words without them.
"""

from __future__ import annotations

from host.api import Company, format_phone
from plugins.sms_module.texts.segments import replace_lookalikes
from plugins.sms_module.texts.variables import checked_language

_SHOP = "{{ shop_name }}"
DEFAULTS: dict[str, dict[str, str]] = {
    "appointment_booked": {
        "en": _SHOP + ": Hello {{ first_name }}, your appointment is booked for "
        "{{ appointment_time }}{% if vehicle %} ({{ vehicle }}){% endif %}.",
        "fr": _SHOP + " : Bonjour {{ first_name }}, votre rendez-vous est confirmé pour le "
        "{{ appointment_time }}{% if vehicle %} ({{ vehicle }}){% endif %}.",
    },
    "appointment_moved": {
        "en": _SHOP + ": Hello {{ first_name }}, your appointment has been moved to "
        "{{ appointment_time }}.",
        "fr": _SHOP + " : Bonjour {{ first_name }}, votre rendez-vous est maintenant le "
        "{{ appointment_time }}.",
    },
    "appointment_cancelled": {
        "en": _SHOP + ": Hello {{ first_name }}, your appointment of {{ appointment_time }} "
        "is cancelled. Call us to book another one.",
        "fr": _SHOP + " : Bonjour {{ first_name }}, votre rendez-vous du {{ appointment_time }} "
        "est annulé. Appelez-nous pour en fixer un autre.",
    },
    "appointment_reminder": {
        "en": _SHOP + ": Reminder, {{ first_name }}: your appointment is on "
        "{{ appointment_time }}. See you soon!",
        "fr": _SHOP + " : Rappel, {{ first_name }} : votre rendez-vous est le "
        "{{ appointment_time }}. Au plaisir!",
    },
    "vehicle_ready": {
        "en": _SHOP + ": Good news {{ first_name }}, your {{ vehicle or 'vehicle' }} is ready "
        "to be picked up.",
        "fr": _SHOP + " : Bonne nouvelle {{ first_name }}, les travaux sur votre "
        "{{ vehicle or 'véhicule' }} sont terminés : vous pouvez venir le chercher.",
    },
    "invoice_printed": {
        "en": _SHOP + ": Thank you {{ first_name }}! Invoice {{ invoice_number }}: "
        "{{ invoice_total }}. See you next time.",
        "fr": _SHOP + " : Merci {{ first_name }}! Facture {{ invoice_number }} : "
        "{{ invoice_total }}. Au plaisir de vous revoir.",
    },
    "welcome": {
        "en": _SHOP + ": Welcome {{ first_name }}! You will receive your appointment and "
        "vehicle updates by text message.",
        "fr": _SHOP + " : Bienvenue {{ first_name }}! Vous recevrez par texto les avis de vos "
        "rendez-vous et de votre véhicule.",
    },
}


def disclaimer_text(company: Company, language: str) -> str:
    """Return the first-SMS disclaimer (PRODUCT.md §5): who writes, why, how to stop."""
    name = replace_lookalikes(company.name.strip())
    if checked_language(language) == "fr":
        return (
            f"{name} vous enverra des textos au sujet de vos rendez-vous et de votre "
            "véhicule; répondez ARRET pour vous désabonner, AIDE pour de l'aide."
        )
    return (
        f"{name} will text you about your appointments and your vehicle; "
        "reply STOP to unsubscribe, HELP for help."
    )


def answer_text(
    word: str, company: Company | None, language: str | None, contact: str | None = None
) -> str:
    """Return the answer to ``word`` (``"stop"``, ``"start"`` or ``"help"``) in ``language``
    (``"en"``, ``"fr"``; both when None), for ``company`` (None: a phone no shop's
    conversation explains). STOP says who is stopped, every shop of the platform (the list is
    platform-wide, PRODUCT.md §5), and how to come back; HELP names the shop, the number to
    call (``contact``, E.164; left out when None) and that message and data rates may apply
    (CTIA Messaging Principles and Best Practices, HELP)."""
    name = replace_lookalikes(company.name.strip()) if company is not None else None
    phone = format_phone(contact) if contact else None
    english = {
        "stop": (
            f"{name}: you are unsubscribed. Neither {name} nor any other shop using this "
            "texting service will text you again."
            if name
            else "You are unsubscribed: no shop using this texting service will text you again."
        )
        + " Reply START to subscribe again.",
        "start": "You are subscribed again. Reply STOP to unsubscribe.",
        "help": (f"{name}: " if name else "")
        + "SMS about your appointments, vehicle and invoices."
        + (f" Contact us: {phone}." if phone else "")
        + " Message and data rates may apply. Reply STOP to unsubscribe.",
    }[word]
    french = {
        "stop": (
            f"{name} : désabonnement confirmé. Ni {name} ni aucun autre commerce qui utilise "
            "ce service de textos ne vous écrira plus."
            if name
            else "Désabonnement confirmé : aucun commerce qui utilise ce service de textos ne "
            "vous écrira plus."
        )
        + " Répondez DEBUT pour vous réabonner.",
        "start": "Vous êtes réabonné. Répondez ARRET pour vous désabonner.",
        "help": (f"{name} : " if name else "")
        + "textos au sujet de vos rendez-vous, de votre véhicule et de vos factures."
        + (f" Pour nous joindre : {phone}." if phone else "")
        + " Des frais de messagerie et de données peuvent s'appliquer. Répondez ARRET pour "
        "vous désabonner.",
    }[word]
    if language == "fr":
        return french
    if language == "en":
        return english
    return f"{english} / {french}"
