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
  don't text me anymore", "I don't want these texts", "remove me from your list", "please
  remove my number", "stop texting me", "wrong number", "arrêtez de m'écrire", "ne plus
  m'écrire", "ne m'écrivez plus", "n'écrivez plus", "veuillez me retirer de votre liste",
  "enlevez mon numéro", a sentence starting with STOP, or a message whose last sentence is
  a firm STOP phrase: "Who is this? Stop") is not acted on, since a sentence may mean
  something else; it is flagged to the shop on the reply page, where a person reads it and
  may opt the phone out (the FCC's "totality of the circumstances"). The patterns want an
  order to stop, not any "plus" or "stop": "Je ne peux plus venir", "Merci, à plus", "Stop
  by at 5?", "It squeaks when I stop" and "Can you take me in at 9?" are not flagged.
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
# "Ne m'écrivez plus", "ne me texte plus", "n'envoyez plus": an order (no subject before
# "ne": "je ne texte plus en conduisant", "vous ne m'écrivez plus?" say something else).
_VOUS_FORMS = r"(ECRIVEZ|TEXTEZ|CONTACTEZ|APPELEZ|ENVOYEZ|DERANGEZ|SOLLICITEZ)"
_TU_FORMS = r"(ECRIS|TEXTE|TEXTES|CONTACTE|APPELLE|ENVOIE|DERANGE)"
_NO_SUBJECT = "".join(
    rf"(?<!\b{s} )" for s in ("JE", "J", "TU", "IL", "ELLE", "ON", "VOUS", "AI", "A", "AVEZ")
)
_UNTIL = r"(PLUS|PU|JAMAIS)"  # "pu": Quebec's spoken "plus"
_MY = r"(MY|THIS|OUR) (PHONE |CELL |MOBILE )?"
_RETIRER = r"(RETIRER|RETIREZ|RETIRE|ENLEVER|ENLEVEZ|ENLEVE|EFFACER|EFFACEZ|SUPPRIMER|SUPPRIMEZ)"
_FILLER = (
    r"((TO|RECEIVE|RECEIVING|GET|GETTING|ANY|MORE|THESE|THOSE|YOUR|THE|ALL|THIS|SUCH|PROMO"
    r"|PROMOTIONAL|MARKETING|TEXT|SMS) )*"
)
LOOKS_LIKE_OPT_OUT = re.compile(
    "|".join(
        (
            rf"\b(DON T|DONT|DO NOT|NEVER|NO LONGER) (EVER )?{_TO_ME}\b",
            rf"{_NOT}\bSTOP {_TO_ME}\b",
            r"\b(REMOVE|DELETE|UNSUBSCRIBE|OPT) ME\b",
            r"\bTAKE (ME|US) (OFF|OUT)\b",  # not "can you take me in at 9?"
            rf"\b(REMOVE|DELETE|ERASE) {_MY}(NUMBER|PHONE|CELL|NAME|CONTACT|INFO)\b",
            rf"\bTAKE {_MY}(NUMBER|NAME|INFO) (OFF|OUT)\b",
            r"\bWRONG (NUMBER|PERSON)\b",
            r"\bNO MORE (TEXTS?|MESSAGES?|SMS)\b",
            rf"\b(DON T|DONT|DO NOT|NO LONGER) (WANT|WISH) {_FILLER}(TEXTS?|MESSAGES?|SMS|ADS"
            r"|PROMOS?|SPAM)\b",
            rf"{_NO_SUBJECT}\bNE? (M|ME|NOUS) ({_VOUS_FORMS}|{_TU_FORMS}) {_UNTIL}\b",
            rf"{_NO_SUBJECT}\bNE? {_VOUS_FORMS} {_UNTIL}\b",
            rf"\b(ME|M|NOUS) {_RETIRER} (DE|D) (VOTRE|VOS|LA|LES|TA|TES|CETTE) (LISTES?"
            r"|REGISTRES?|FICHIERS?)\b",
            rf"{_NO_SUBJECT}\b{_RETIRER} (MON|MA|MES|NOTRE|NOS|CE) (NUMERO|NOM|COORDONNEES)\b",
            r"\b(MAUVAIS|PAS LE BON) NUMERO\b",
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
    if classify(text, False) is not None:
        return False
    return bool(LOOKS_LIKE_OPT_OUT.search(" ".join(words(text)))) or _ends_with_stop(text)


# The STOP phrases firm enough to end a message on ("Wrong number, stop"); "cancel", "end"
# and "quit" also end sentences about an appointment or a noise.
_FIRM = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "OPT", "OPTOUT", "ARRET", "ARRETEZ"})
_SENTENCE_END = re.compile(r"[.,;:!?\n]+|\s[-–—]+\s")


def _ends_with_stop(text: str) -> bool:
    """Tell whether ``text``'s last sentence, after at least one other, is a STOP phrase
    beginning with a firm word ("Who is this? Stop", "Wrong number. Unsubscribe please");
    a closing courtesy ("…, stop. Thanks") is no sentence; "It squeaks when I stop" has one."""
    said = [core(part) for part in _SENTENCE_END.split(text or "")]
    said = [s for s in said if s and tuple(s.split()) not in _PADDING]
    return len(said) > 1 and said[-1] in STOP_PHRASES and said[-1].split()[0] in _FIRM
