"""The words a customer texts to stop, restart or ask for help (PRODUCT.md §5; CTIA's
opt-out keywords and their French counterparts): single words, case and accents ignored."""

from __future__ import annotations

import unicodedata

STOP_WORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "ARRET",
        "ARRETE",
        "ARRETER",
        "DESABONNER",
    }
)
START_WORDS = frozenset({"START", "UNSTOP", "DEBUT"})
# YES and OUI re-subscribe only a phone that is opted out.
CONFIRM_WORDS = frozenset({"YES", "OUI"})
HELP_WORDS = frozenset({"HELP", "INFO", "AIDE"})


def keyword(text: str) -> str:
    """Fold a reply to the single upper-case word it stands for, accents and case ignored."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.strip(" .!?¡¿\t\r\n").upper()


def classify(text: str, opted_out: bool) -> str | None:
    """Return ``"stop"``, ``"start"``, ``"help"`` or ``None`` for an inbound reply."""
    word = keyword(text)
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS or (opted_out and word in CONFIRM_WORDS):
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None
