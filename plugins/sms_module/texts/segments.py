"""Count the segments of an SMS body, price them, and offer plain look-alike replacements.

The rule is the product's (PRODUCT.md §8, the guide's "Segmentation and pricing"): a segment
holds up to **153** GSM-7 units, or **67** UCS-2 units as soon as one character of the body is
outside the GSM 03.38 alphabet, and that one rule applies at every length. Raw SMS carries 160
septets (70 UCS-2 characters) in a single-part message and only drops to 153/67 once a user
data header is needed for concatenation; the product deliberately does not make that
distinction, because its numbers are what customers are billed on ("200 regular characters =
2 segments; 150 characters with one Unicode character = 3 segments"). So 153 regular
characters are 1 segment and 154 are 2; 67 UCS-2 units are 1 segment and 68 are 2.

Units: in GSM-7 a basic-table character is one septet and an extension-table character
(``^ { } \\ [ ~ ] | €`` and form feed) is two (escape + character). In UCS-2 every character
is one UTF-16 code unit except those outside the Basic Multilingual Plane (most emojis),
which take a surrogate pair: two units. Segments are ``ceil(units / per_segment)``: the
product counts units, it does not model a carrier keeping an escape pair or a surrogate pair
whole across a segment boundary.

Characters (for the 1,600-character limit) are Python ``len()``: Unicode code points, which
is what a user sees for ordinary text; a combined emoji (family, flag) counts once per code
point. An empty body is 0 units and 0 segments: refusing it is a separate validation.

This module is pure: no Flask, no database, no Redis, so the CLI, the API, the pages and the
send service all call the same functions. Messages of :class:`MessageTooLong` are English;
callers that show them to a user translate from its ``characters`` and ``limit`` attributes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Decimal, localcontext

GSM_7 = "GSM-7"
UCS_2 = "UCS-2"

GSM_PER_SEGMENT = 153
UNICODE_PER_SEGMENT = 67
MAX_CHARACTERS = 1600

# The GSM 03.38 default alphabet in code order, 0x00 to 0x7F, with 0x1B (escape to the
# extension table, not a character) left out. 0x09 is the capital Ç that ETSI GSM 03.38 and
# 3GPP TS 23.038 show; unicode.org's GSM0338.TXT maps it to the small ç instead, but the
# product follows the standard (PRODUCT.md §8 lists ç among the characters forcing Unicode).
_GSM_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"  # 0x00-0x0F
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"  # 0x10-0x1F, without 0x1B
    " !\"#¤%&'()*+,-./"  # 0x20-0x2F: 0x24 is ¤, the dollar sign is 0x02
    "0123456789:;<=>?"  # 0x30-0x3F
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"  # 0x40-0x5F
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"  # 0x60-0x7F: no backtick
)
GSM_BASIC: frozenset[str] = frozenset(_GSM_BASIC_TABLE)
GSM_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")
GSM_CHARACTERS: frozenset[str] = GSM_BASIC | GSM_EXTENSION

# Typographic look-alikes a word processor or a phone keyboard slips in, each mapped to the
# plain GSM basic character(s) a reader would not tell apart. Replacing them keeps a message
# in GSM-7: 153 rather than 67 units per segment.
LOOKALIKES: dict[str, str] = {
    # Single quotes, apostrophes, primes and accents used as apostrophes.
    "\u2018": "'",  # ‘ left single quotation mark
    "\u2019": "'",  # ’ right single quotation mark
    "\u201a": "'",  # ‚ single low-9 quotation mark
    "\u201b": "'",  # ‛ single high-reversed-9 quotation mark
    "\u2039": "'",  # ‹ single left-pointing angle quotation mark
    "\u203a": "'",  # › single right-pointing angle quotation mark
    "\u2032": "'",  # ′ prime
    "\u02bc": "'",  # ʼ modifier letter apostrophe
    "\u00b4": "'",  # ´ acute accent
    "`": "'",  # grave accent: ASCII, but not in GSM 03.38
    # Double quotes.
    "\u201c": '"',  # “ left double quotation mark
    "\u201d": '"',  # ” right double quotation mark
    "\u201e": '"',  # „ double low-9 quotation mark
    "\u201f": '"',  # ‟ double high-reversed-9 quotation mark
    "\u00ab": '"',  # « left-pointing double angle quotation mark
    "\u00bb": '"',  # » right-pointing double angle quotation mark
    "\u2033": '"',  # ″ double prime
    # Dashes and hyphens.
    "\u2010": "-",  # ‐ hyphen
    "\u2011": "-",  # ‑ non-breaking hyphen
    "\u2012": "-",  # ‒ figure dash
    "\u2013": "-",  # – en dash
    "\u2014": "-",  # — em dash
    "\u2015": "-",  # ― horizontal bar
    "\u2212": "-",  # − minus sign
    "\u2022": "-",  # • bullet
    "\u2026": "...",  # … horizontal ellipsis
    # Spaces: tab is not in GSM 03.38 either.
    "\t": " ",
    "\u00a0": " ",  # no-break space
    **{chr(code): " " for code in range(0x2000, 0x200B)},  # en quad .. hair space
    "\u202f": " ",  # narrow no-break space
    "\u205f": " ",  # medium mathematical space
    "\u3000": " ",  # ideographic space
    # Line and paragraph separators become a plain line feed.
    "\u2028": "\n",
    "\u2029": "\n",
    # Invisible characters that only force Unicode: dropped.
    "\u200b": "",  # zero width space
    "\u00ad": "",  # soft hyphen
    "\ufeff": "",  # zero width no-break space (byte order mark)
}
_LOOKALIKE_TABLE = str.maketrans(LOOKALIKES)


class MessageTooLong(ValueError):
    """The body has more characters than a message may carry."""

    def __init__(self, characters: int, limit: int) -> None:
        self.characters = characters
        self.limit = limit
        super().__init__(
            f"The message has {characters:,} characters; the limit is {limit:,}. "
            f"Shorten it by {characters - limit:,}."
        )


@dataclass(frozen=True)
class SegmentCount:
    """How a body is encoded and how many units and segments it takes."""

    encoding: str  # GSM_7 or UCS_2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    unicode_characters: tuple[str, ...]  # distinct, in order of first appearance
    characters: int  # len(text): code points


def unicode_characters(text: str) -> tuple[str, ...]:
    """Return the distinct characters of text outside GSM 03.38, in order of appearance."""
    return tuple(dict.fromkeys(ch for ch in text if ch not in GSM_CHARACTERS))


def count_segments(
    text: str,
    *,
    gsm_per_segment: int = GSM_PER_SEGMENT,
    unicode_per_segment: int = UNICODE_PER_SEGMENT,
    max_characters: int = MAX_CHARACTERS,
) -> SegmentCount:
    """Count the encoding, units and segments of text; raise MessageTooLong past the limit."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    for name, value in (
        ("gsm_per_segment", gsm_per_segment),
        ("unicode_per_segment", unicode_per_segment),
        ("max_characters", max_characters),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    if len(text) > max_characters:
        raise MessageTooLong(len(text), max_characters)

    forcing = unicode_characters(text)
    if forcing:
        encoding, per_segment = UCS_2, unicode_per_segment
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    else:
        encoding, per_segment = GSM_7, gsm_per_segment
        units = sum(2 if ch in GSM_EXTENSION else 1 for ch in text)
    return SegmentCount(
        encoding=encoding,
        units=units,
        segments=math.ceil(units / per_segment),
        unicode_characters=forcing,
        characters=len(text),
    )


def plain_replacements(text: str) -> dict[str, str]:
    """Return the look-alikes present in text with their plain replacements."""
    return {ch: LOOKALIKES[ch] for ch in dict.fromkeys(text) if ch in LOOKALIKES}


def replace_lookalikes(text: str) -> str:
    """Return text with every typographic look-alike replaced by its plain character(s)."""
    return text.translate(_LOOKALIKE_TABLE)


def price(segments: int, price_per_segment: Decimal) -> Decimal:
    """Return segments × price_per_segment, exactly (no rounding, no float)."""
    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 0:
        raise ValueError(f"segments must be a non-negative integer, not {segments!r}")
    if not isinstance(price_per_segment, Decimal):
        # A float price would already carry a binary rounding error.
        raise TypeError(
            f"price_per_segment must be Decimal, not {type(price_per_segment).__name__}"
        )
    if not price_per_segment.is_finite() or price_per_segment < 0:
        raise ValueError(
            f"price_per_segment must be a finite, non-negative Decimal, not {price_per_segment}"
        )
    # Unbounded precision: the product is exact whatever the operator's number of decimals;
    # rounding to a currency's minor unit is the invoice's business, not the per-message price.
    with localcontext() as ctx:
        ctx.prec, ctx.Emax, ctx.Emin = MAX_PREC, MAX_EMAX, MIN_EMIN
        # abs(): a price of -0 is allowed and should not print as "-0".
        return abs(price_per_segment) * segments


def as_json(count: SegmentCount, price_per_segment: Decimal, currency: str) -> dict:
    """Return the JSON shape of `crmhost sms segments TEXT --json` and the segments API."""
    return {
        "encoding": count.encoding,
        "units": count.units,
        "segments": count.segments,
        "unicode_characters": list(count.unicode_characters),
        # Fixed-point string: a JSON float would lose the Decimal, str() may give 1E+1.
        "price": format(price(count.segments, price_per_segment), "f"),
        "currency": currency,
    }
