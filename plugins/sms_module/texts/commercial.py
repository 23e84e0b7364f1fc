"""What every commercial message says besides its offer: who sends it and how to stop.

Canada's anti-spam law (CASL, S.C. 2010, c. 23, s. 6(2)) asks every commercial electronic
message to identify its sender and to offer an unsubscribe mechanism, in the form the CRTC's
regulations set (Electronic Commerce Protection Regulations (CRTC), SOR/2012-36, ss. 2-3);
CTIA's messaging principles ask the same of marketing texts in the US. So each campaign
message (PRODUCT.md §7, §10) ends with a line naming the shop and saying how to unsubscribe
(the platform's STOP, §5), in the customer's language. It is part of the text sent, so the
segments and the price shown before sending count it (§8).

Like the other built-in texts (``defaults``), the line is GSM-7 where the shop's name allows
it: é is in the GSM alphabet; typographic look-alikes in the name are made plain.
"""

from __future__ import annotations

from host.api import Company
from plugins.sms_module.texts.segments import replace_lookalikes
from plugins.sms_module.texts.variables import checked_language

# The line each language adds, below the shop's text ({name}: the shop's name).
FOOTERS: dict[str, str] = {
    "en": "{name} - Reply STOP to unsubscribe",
    "fr": "{name} - Répondez ARRET pour vous désabonner",
}


def footer(company: Company, language: str) -> str:
    """Return the line that identifies the shop and says how to unsubscribe, in
    ``language`` ("en" or "fr"; another is refused by ``checked_language``)."""
    name = replace_lookalikes(" ".join(company.name.split()))
    return FOOTERS[checked_language(language)].format(name=name)


def with_footer(body: str, company: Company, language: str) -> str:
    """Return ``body`` as a customer reading ``language`` receives it: the shop's text, then
    on a line of its own who sends it and how to unsubscribe (CASL s. 6(2))."""
    return f"{body.rstrip()}\n{footer(company, language)}"
