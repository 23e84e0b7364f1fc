"""What a campaign will send and cost, shown before it goes (issue 11: the confirmation
step): for each language of its audience the text a customer receives (the shop's text,
then who sends it and how to unsubscribe: ``texts.commercial``), its segments, how many
phones get it, how many of them get the first-SMS disclaimer before it (§5), and the cost
(§8: segments × the operator's price per segment, disclaimers included)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _

from host.api import Company, money
from plugins.sms_module.campaigns.audience import reach
from plugins.sms_module.models import SmsCampaign
from plugins.sms_module.texts import commercial, templates
from plugins.sms_module.texts.pricing import price_text, pricing, segment_rule
from plugins.sms_module.texts.segments import MessageTooLong, count_segments

CENTS = Decimal("0.01")


def languages_of(language: str | None) -> tuple[str, ...]:
    """Return the message languages of an audience: its own, or both for every customer."""
    return (language,) if language else templates.LANGUAGES


def chosen_text(body: str, body_fr: str | None, language: str) -> str:
    """Return the shop's text for customers reading ``language``: the French one for them
    when it is written, else the main one."""
    return body_fr if language == "fr" and body_fr and body_fr.strip() else body


def message_text(company: Company, body: str, body_fr: str | None, language: str) -> str:
    """Return the whole message a customer reading ``language`` receives: the shop's text,
    then its name and how to unsubscribe (CASL s. 6(2), ``texts.commercial``)."""
    return commercial.with_footer(chosen_text(body, body_fr, language), company, language)


def campaign_text(campaign: SmsCampaign, language: str) -> str:
    """Return the whole message of ``campaign`` for a customer reading ``language``."""
    return message_text(campaign.company, campaign.body, campaign.body_fr, language)


@dataclass
class Line:
    """One language of the audience: what its customers receive, and what it costs.

    ``segments`` and ``disclaimer_segments`` are per message (§8); ``cost`` is in the
    operator's currency, for ``phones`` messages and ``first_time`` disclaimers; ``error``
    says why the text cannot go (too long), in which case it costs nothing yet."""

    language: str
    text: str
    segments: int
    encoding: str
    customers: int
    phones: int
    first_time: int
    disclaimer: str
    disclaimer_segments: int
    cost: Decimal
    error: str | None = None


@dataclass
class Estimate:
    """A campaign's audience and cost before it goes: one ``Line`` per language."""

    lines: list[Line] = field(default_factory=list)
    price_per_segment: Decimal = Decimal(0)
    currency: str = "CAD"

    @property
    def customers(self) -> int:
        return sum(line.customers for line in self.lines)

    @property
    def phones(self) -> int:
        return sum(line.phones for line in self.lines)

    @property
    def first_time(self) -> int:
        return sum(line.first_time for line in self.lines)

    @property
    def segments(self) -> int:
        """The most segments one message of the campaign takes."""
        return max((line.segments for line in self.lines), default=0)

    @property
    def total_segments(self) -> int:
        """Every segment the campaign sends: its messages and first-contact disclaimers."""
        return sum(
            line.segments * line.phones + line.disclaimer_segments * line.first_time
            for line in self.lines
        )

    @property
    def price_text(self) -> str:
        """The price per segment as the reader writes it, every stored decimal kept."""
        return price_text(self.price_per_segment, self.currency)

    @property
    def total(self) -> Decimal:
        """The whole cost, to the cent."""
        return sum((line.cost for line in self.lines), Decimal(0)).quantize(CENTS)

    def as_json(self) -> dict:
        """The estimate for the form's live count (amounts as strings, to the cent; each
        ``cost_text`` the amount as the reader writes it: "$0.05", "0,05 $")."""
        return {
            "customers": self.customers,
            "reachable": self.phones,
            "first_time": self.first_time,
            "segments": self.segments,
            "cost": str(self.total),
            "cost_text": money(self.total, self.currency),
            "currency": self.currency,
            "price_per_segment": str(self.price_per_segment),
            "lines": [
                {
                    "language": line.language,
                    "text": line.text,
                    "segments": line.segments,
                    "encoding": line.encoding,
                    "customers": line.customers,
                    "reachable": line.phones,
                    "first_time": line.first_time,
                    "disclaimer_segments": line.disclaimer_segments,
                    "cost": str(line.cost.quantize(CENTS)),
                    "cost_text": money(line.cost.quantize(CENTS), self.currency),
                    "error": line.error,
                }
                for line in self.lines
            ],
        }


def estimate(company: Company, body: str, body_fr: str | None, language: str | None) -> Estimate:
    """Return what the campaign would send, to whom and at what cost, if it went now.

    ``body`` may be empty (the form being written): its line then costs its footer alone.
    A text over the length limit (§8: 1,600 characters) gets an ``error`` and no cost."""
    prices = pricing()
    rule = segment_rule()
    reached = reach(company, language)
    result = Estimate(price_per_segment=prices.price_per_segment, currency=prices.currency)
    for code in languages_of(language):
        text = message_text(company, body or "", body_fr, code)
        note = templates.disclaimer_text(company, code)
        first = count_segments(note, **rule).segments
        who = reached[code]
        try:
            count = count_segments(text, **rule)
        except MessageTooLong as exc:
            segments, encoding, error = 0, "", too_long_message(exc)
        else:
            segments, encoding, error = count.segments, count.encoding, None
        units = who.phones * segments + who.first_time * first if error is None else 0
        result.lines.append(
            Line(
                language=code,
                text=text,
                segments=segments,
                encoding=encoding,
                customers=who.customers,
                phones=who.phones,
                first_time=who.first_time,
                disclaimer=note,
                disclaimer_segments=first,
                cost=prices.price_per_segment * units,
                error=error,
            )
        )
    return result


def too_long_message(exc: MessageTooLong) -> str:
    """Say, for people, that a whole message (the shop's text and its footer) is too long."""
    return _(
        "With the shop's name and how to unsubscribe, the message has %(count)s characters; "
        "the limit is %(limit)s.",
        count=exc.characters,
        limit=exc.limit,
    )


def fingerprint(campaign: SmsCampaign) -> str:
    """Return a short digest of what the shop reviews (name, texts, time, audience): a
    confirmation of another version than the one shown is refused."""
    seen = "\x1f".join(
        str(value)
        for value in (
            campaign.name,
            campaign.body,
            campaign.body_fr or "",
            int(campaign.send_at.timestamp()) if campaign.send_at else "",
            campaign.language or "",
        )
    )
    return hashlib.sha256(seen.encode()).hexdigest()[:16]
