"""The built-in text of each event in English and French, used until a shop writes its own.

Short and signed with the shop's name so the customer knows who writes; French in Quebec
style. GSM-7 where the language allows it (PRODUCT.md §8): é è à ù are in the GSM alphabet,
ê ç ô À are not, so the French texts pick words without them.
"""

from __future__ import annotations

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
