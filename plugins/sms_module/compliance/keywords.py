"""The words a customer texts to stop, restart or ask for help (PRODUCT.md §5), and the
replies that look like an opt-out without being sure.

The rule, decided once here:

* A reply **acts** (``classify``) when the whole message, once normalised, is a keyword
  phrase: case, accents, punctuation ("Stop,", "opt-out", "STOP!!!"), repeated words
  ("stop stop") and polite padding at either end ("please", "thanks", "merci", "svp", "hi",
  "now"…) are ignored. STOP phrases are the US FCC's revocation words (47 CFR 64.1200(a)(10),
  the "any reasonable means" rule in force since April 2025: stop, quit, end, revoke, opt
  out, cancel, unsubscribe), CTIA's (STOPALL, OPTOUT) and their French counterparts (ARRET,
  ARRETEZ, DESABONNER…), alone, widened by "all"/"tout" ("stop all"), with their object
  ("unsubscribe me", "désabonnez-moi", "opt me out") or with what they stop ("stop texts",
  "arrêtez les textos"). Nothing more: "I'll stop by tomorrow" and "Don't stop sending me
  deals" hold a keyword but are no keyword phrase.
* A reply that **looks like** an opt-out in other words (``looks_like_opt_out``: "please
  don't text me anymore", "remove me from your list", "stop texting me", "arrêtez de
  m'écrire", "ne plus m'écrire", a sentence starting with STOP) is not acted on, since a
  sentence may mean something else; it is flagged to the shop on the reply page, where a
  person reads it and may opt the phone out (the FCC's "totality of the circumstances").
* START and HELP act only as single words (with the same padding): "help me with my car" is
  a question for the shop, not a HELP.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import product

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


def _phrases(*parts: tuple[str, ...]) -> set[str]:
    """Every phrase made of one choice from each part ("" leaves the part out)."""
    return {" ".join(w for w in choice if w) for choice in product(*parts)}


# Words that stop what the message is about; "opt out" is two words once "opt-out" is split.
_STOPPING = ("STOP", "END", "QUIT", "CANCEL", "ARRET", "ARRETE", "ARRETER", "ARRETEZ")
_LEAVING = ("UNSUBSCRIBE", "OPT OUT", "OPTOUT", "DESABONNER", "DESABONNEZ", "DESINSCRIRE")
_WHAT = ("TEXTS", "MESSAGES", "SMS", "TEXT MESSAGES", "TEXTOS", "TEXTO", "ALERTS")
STOP_PHRASES = frozenset(
    STOP_WORDS
    | {"OPT OUT", "OPT ME OUT", "ARRETEZ", "DESABONNEZ", "DESABONNEMENT", "DESINSCRIPTION"}
    | _phrases(_STOPPING + _LEAVING, ("ALL", "TOUT"))  # "stop all", "arrêt tout"
    | _phrases(("UNSUBSCRIBE", "DESABONNEZ", "DESABONNER", "DESINSCRIVEZ"), ("ME", "MOI"))
    | _phrases(_STOPPING, ("", "ALL", "THE", "YOUR", "LES", "TOUS LES", "VOS"), _WHAT)
)

# Padding taken off either end of a reply before it is matched, longest first.
_PADDING = sorted(
    (
        tuple(p.split())
        for p in (
            "PLEASE",
            "PLS",
            "PLZ",
            "THANKS",
            "THANK YOU",
            "THANKYOU",
            "THX",
            "TY",
            "OK",
            "OKAY",
            "NOW",
            "RIGHT NOW",
            "HI",
            "HELLO",
            "HEY",
            "MERCI",
            "MERCI BEAUCOUP",
            "SVP",
            "STP",
            "S IL VOUS PLAIT",
            "SIL VOUS PLAIT",
            "S IL TE PLAIT",
            "BONJOUR",
            "ALLO",
            "SALUT",
            "MAINTENANT",
        )
    ),
    key=len,
    reverse=True,
)

# Sentences that look like an opt-out (matched on the normalised text, words apart).
_NOT = r"(?<!\bDON T )(?<!\bDONT )(?<!\bDO NOT )(?<!\bNEVER )"
_TO_ME = (
    r"(TEXT|TEXTING|MESSAGE|MESSAGING|SMS|CONTACT|CONTACTING|CALL|CALLING|WRITE|WRITING"
    r"|SEND|SENDING|EMAIL)"
)
_ECRIRE = r"(TEXTER|ECRIRE|CONTACTER|APPELER|ENVOYER|TEXTE|ECRIVEZ|CONTACTEZ|ENVOYEZ)"
LOOKS_LIKE_OPT_OUT = re.compile(
    "|".join(
        (
            rf"\b(DON T|DONT|DO NOT|NEVER|NO LONGER) (EVER )?{_TO_ME}\b",
            rf"{_NOT}\bSTOP {_TO_ME}\b",
            r"\b(REMOVE|TAKE|DELETE|UNSUBSCRIBE|OPT) ME\b",
            r"\bNO MORE (TEXTS?|MESSAGES?|SMS)\b",
            r"\b(DON T|DONT|DO NOT) WANT (ANY )?(MORE |THESE |YOUR |THOSE )?(TEXTS?|MESSAGES?"
            r"|SMS)",
            r"\b(UNSUBSCRIBE|OPTOUT|OPT OUT|STOPALL)\b",
            r"\bLEAVE ME ALONE\b",
            r"\bNOT INTERESTED\b",
            rf"\bNE (PLUS|PAS|JAMAIS) (M |ME |NOUS )?{_ECRIRE}\b",
            rf"\b(ARRETEZ|ARRETER|ARRETE|CESSEZ|CESSER) (DE |D )(M |ME )?{_ECRIRE}\b",
            r"\bPLUS (DE|AUCUN) (TEXTOS?|MESSAGES?|SMS)\b",
            r"\b(RETIREZ|ENLEVEZ|EFFACEZ|SUPPRIMEZ|DESABONNEZ|DESINSCRIVEZ) MOI\b",
            r"\b(DESABONN|DESINSCRI)\w*",
            r"\bNE VEUX PLUS\b",
            r"\bPAS INTERESSEE?S?\b",
            r"\bLAISSEZ MOI TRANQUILLE\b",
            # A sentence that begins with STOP (not "stop by", "stop in": a visit).
            r"^(STOP|STOPALL|ARRET|ARRETEZ)\b(?! (BY|IN|OVER|AT|BACK|PAR|ICI)\b)",
        )
    )
)


def words(text: str) -> list[str]:
    """Return the words of ``text``: upper case, accents off, every punctuation mark and
    apostrophe a space ("Désabonnez-moi!" → ``["DESABONNEZ", "MOI"]``)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return re.sub(r"[^A-Z0-9]+", " ", plain).split()


def core(text: str) -> str:
    """Return what a reply says once normalised (``words``), repeated words and the polite
    padding at either end taken off: "Stop please!" → ``"STOP"``, "stop, stop" → ``"STOP"``."""
    said = words(text)
    tokens = [w for i, w in enumerate(said) if i == 0 or w != said[i - 1]]
    trimmed = True
    while trimmed and tokens:
        trimmed = False
        for pad in _PADDING:
            n = len(pad)
            if len(tokens) > n and tuple(tokens[:n]) == pad:
                tokens, trimmed = tokens[n:], True
            if len(tokens) > n and tuple(tokens[-n:]) == pad:
                tokens, trimmed = tokens[:-n], True
    return " ".join(tokens)


def classify(text: str, opted_out: bool) -> str | None:
    """Return ``"stop"``, ``"start"``, ``"help"`` or ``None`` for an inbound reply's text
    (any string); ``opted_out`` says whether the phone is on the opt-out list (YES and OUI
    then re-subscribe). Rule: this module's docstring (PRODUCT.md §5, FCC, CTIA)."""
    said = core(text)
    if said in STOP_PHRASES:
        return "stop"
    if said in START_WORDS or (opted_out and said in CONFIRM_WORDS):
        return "start"
    if said in HELP_WORDS:
        return "help"
    return None


def looks_like_opt_out(text: str) -> bool:
    """Tell whether a reply that is no keyword (``classify`` gave None) may still ask to
    stop the SMS: to flag it to the shop, never to act on it (module docstring)."""
    said = " ".join(words(text))
    return classify(text, False) is None and bool(LOOKS_LIKE_OPT_OUT.search(said))
