"""The operator's price per segment and the segment rule, and a message priced by them
(PRODUCT.md §8: price = segments × price per segment, charged for every delivery attempt)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from babel.core import get_global
from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_currency_name,
    get_territory_currencies,
    parse_decimal,
)
from flask import current_app
from flask_babel import gettext as _

from host.api import Company, Customer, db, reader_locale
from plugins.sms_module.models import PlatformSettings, Queue, SmsMessage
from plugins.sms_module.texts.segments import count_segments, price

# The price column is Numeric(10, 5) (models.settings.PlatformSettings): five digits before
# the point, five after. PostgreSQL refuses more; the rule says so first (issue 13 §10).
MAX_PRICE = Decimal("100000")  # excluded
PRICE_PLACES = 5
EXAMPLE_PRICE = Decimal("0.0100")  # what the messages give as an example
# Spaces a number may be grouped with ("1 000,5"): dropped before reading it.
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009")


@dataclass(frozen=True)
class Pricing:
    price_per_segment: Decimal
    currency: str


def pricing() -> Pricing:
    """Return the operator's price per segment (config defaults until one is saved)."""
    row = db.session.get(PlatformSettings, 1)
    if row is not None:
        return Pricing(_tidy(row.price_per_segment), row.currency)
    config = current_app.config
    return Pricing(Decimal(str(config["SMS_PRICE_PER_SEGMENT"])), config["SMS_CURRENCY"])


def _tidy(amount: Decimal) -> Decimal:
    """Drop the database's padding zeros, keeping four decimals at least."""
    amount = amount.normalize()
    return amount.quantize(Decimal("0.0001")) if amount.as_tuple().exponent > -4 else amount


@lru_cache(maxsize=1)
def currencies_in_use() -> frozenset[str]:
    """Return the ISO 4217 codes of the currencies some country uses as legal tender today,
    from Babel's CLDR data: "CAD", "USD", "EUR"…, not a withdrawn one ("DEM") nor a code
    that is no money ("XXX", "XTS", "XAU"). Read once per process."""
    return frozenset(
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory)
    )


def price_text(amount: Decimal, currency: str) -> str:
    """Write a price per segment the reader's way with every stored decimal: "0,0083 $" in
    French, "$0.0083" in English (the ``money`` filter keeps cents only)."""
    return format_currency(
        _tidy(amount), currency, locale=reader_locale(), decimal_quantization=False
    )


def currency_name(code: str) -> str:
    """Return the currency's name in the reader's language ("dollar canadien")."""
    return get_currency_name(code, locale=reader_locale())


def read_decimal(text: str) -> Decimal | None:
    """Read a number typed by the reader in their language's format: "0,02" or "0.02" in
    French ("1 000,5" too), "0.02" or "1,000.5" in English (Babel's ``parse_decimal`` with
    ``reader_locale``, strict: "0,02" is no number in English); ``None`` when it is none.
    "NaN" and "Infinity" come back as such: callers refuse what is not finite
    (issue 12 review, point 4)."""
    cleaned = (text or "").strip().translate(_SPACES)
    if not cleaned:
        return None
    try:
        return parse_decimal(cleaned, locale=reader_locale(), strict=True)
    except (NumberFormatError, ValueError, ArithmeticError):
        return None


def decimal_text(amount: Decimal) -> str:
    """Write a number with all its digits the reader's way ("0,00001" in French, "0.00001"
    in English; "100 000" / "100,000")."""
    return format_decimal(amount, locale=reader_locale(), decimal_quantization=False)


def price_input(amount: Decimal) -> str:
    """Write a price per segment for the price field, in the reader's format and without
    grouping, keeping four decimals at least and every stored one: "0,0100" in French,
    "0.0100" in English (``read_decimal`` reads it back)."""
    return format_decimal(_tidy(amount), "0.0000#", locale=reader_locale())


def parse_price(text: str) -> Decimal:
    """Return the price per segment typed in ``text`` (``read_decimal``), or raise
    ``ValueError`` with a message for people when it is no finite number."""
    amount = read_decimal(text)
    if amount is None or not amount.is_finite():
        raise ValueError(
            _(
                "The price per segment is a number such as %(example)s.",
                example=price_input(EXAMPLE_PRICE),
            )
        )
    return amount


def set_pricing(price_per_segment: Decimal, currency: str) -> Pricing:
    """Save the operator's price per segment (commits). Raises ``ValueError`` with a message
    for people (translated, numbers in the reader's format: issue 12 review, point 4) when
    the price is not a finite number, is zero or negative, not below ``MAX_PRICE``, below
    the smallest stored amount (0.00001: it would be saved as 0) or has more than
    ``PRICE_PLACES`` decimals (what its column holds), or the currency is not the ISO 4217
    code of a currency in use (``currencies_in_use``; issue 12, point 8)."""
    example = price_input(EXAMPLE_PRICE)
    if not price_per_segment.is_finite():  # NaN, Infinity: no price (and NaN < 0 raises)
        raise ValueError(
            _("The price per segment is a number such as %(example)s.", example=example)
        )
    if price_per_segment < 0:
        raise ValueError(_("The price per segment cannot be negative."))
    if price_per_segment == 0:
        raise ValueError(
            _("The price per segment is above zero, e.g. %(example)s.", example=example)
        )
    if price_per_segment >= MAX_PRICE:
        raise ValueError(
            _(
                "The price per segment must be below %(limit)s, e.g. %(example)s.",
                limit=decimal_text(MAX_PRICE),
                example=example,
            )
        )
    smallest = Decimal(1).scaleb(-PRICE_PLACES)  # 0.00001
    if 0 < price_per_segment < smallest:
        raise ValueError(
            _(
                "A price per segment above zero is %(smallest)s at least.",
                smallest=decimal_text(smallest),
            )
        )
    # Compared exactly, not normalised: normalize() rounds 1e-99999999 to 0.
    if price_per_segment.quantize(smallest) != price_per_segment:
        raise ValueError(
            _("The price per segment has %(places)s decimals at most.", places=PRICE_PLACES)
        )
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError(_("The currency is a three-letter code such as CAD or USD."))
    if currency not in currencies_in_use():
        raise ValueError(
            _(
                "%(code)s is not a currency in use (ISO 4217): give a code such as CAD or USD.",
                code=currency,
            )
        )
    row = db.session.get(PlatformSettings, 1) or PlatformSettings(id=1)
    row.price_per_segment, row.currency = price_per_segment, currency
    db.session.add(row)
    db.session.commit()
    return Pricing(price_per_segment, currency)


def segment_rule() -> dict:
    """Return the configured segment sizes and length limit for ``count_segments``."""
    config = current_app.config
    return {
        "gsm_per_segment": config["SMS_GSM_PER_SEGMENT"],
        "unicode_per_segment": config["SMS_UNICODE_PER_SEGMENT"],
        "max_characters": config["SMS_MAX_CHARACTERS"],
    }


def new_message(
    company: Company | None,
    customer: Customer | None,
    phone: str,
    body: str,
    kind: str,
    send_at: datetime,
    queue: Queue = Queue.TRANSACTIONAL,
) -> SmsMessage:
    """Build a message with its segments and price (the caller gives it a status)."""
    prices = pricing()
    count = count_segments(body, **segment_rule())
    return SmsMessage(
        company_id=company.id if company is not None else None,
        customer_id=customer.id if customer is not None else None,
        phone=phone,
        body=body,
        queue=queue,
        kind=kind,
        segments=count.segments,
        encoding=count.encoding,
        price_per_segment=prices.price_per_segment,
        price=price(count.segments, prices.price_per_segment),
        currency=prices.currency,
        send_at=send_at,
    )
