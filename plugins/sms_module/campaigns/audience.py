"""A campaign's audience (PRODUCT.md §7, §10): the shop's customers with a mobile phone, in
a language if chosen, and how many of them may receive it (consent on record, not opted
out), with what that costs (§8)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select

from host.api import Company, Customer, db
from plugins.sms_module.compliance import consent, opt_out
from plugins.sms_module.models import OptOut
from plugins.sms_module.texts.pricing import pricing
from plugins.sms_module.texts.templates import LANGUAGES, message_language


def _with_phone(query, company: Company):
    return query.where(
        Customer.company_id == company.id,
        Customer.mobile_phone.is_not(None),
        Customer.mobile_phone != "",
    )


def _language_filter(query, company: Company, language: str | None):
    """Keep the customers who read ``language``: their own, else the shop's (as the
    messages' language is chosen, ``message_language``)."""
    if not language:
        return query
    spoken = func.lower(Customer.language)
    if message_language(None, company) == language:
        unknown = or_(Customer.language.is_(None), spoken.not_in(LANGUAGES))
        return query.where(or_(spoken == language, unknown))
    return query.where(spoken == language)


def audience(company: Company, language: str | None):
    """Return the query of the campaign's customers: the shop's, with a mobile phone, in
    ``language`` if given."""
    return _language_filter(_with_phone(select(Customer), company), company, language)


@dataclass
class Audience:
    """How many customers a language choice reaches, and how many of them may receive it
    (consent on record, not opted out)."""

    customers: int = 0
    reachable: int = 0


@dataclass
class AudienceCounts:
    """The audience of each language choice: "" (everybody), "en", "fr"."""

    by_language: dict[str, Audience] = field(default_factory=dict)

    def __getitem__(self, language: str | None) -> Audience:
        return self.by_language.get(language or "", Audience())


def audience_counts(company: Company) -> AudienceCounts:
    """Count the shop's audience for each language choice, in one GROUP BY."""
    consenting = consent.consenting_customers(company.id)
    reachable = case((and_(consenting.c.customer_id.is_not(None), OptOut.id.is_(None)), 1), else_=0)
    spoken = func.lower(Customer.language)
    query = (
        _with_phone(select(spoken, func.count(Customer.id), func.sum(reachable)), company)
        .outerjoin(consenting, consenting.c.customer_id == Customer.id)
        .outerjoin(OptOut, opt_out.listed(Customer.mobile_phone))
        .group_by(spoken)
    )
    default = message_language(None, company)
    counts = {code: Audience() for code in ("", *LANGUAGES)}
    for code, customers, able in db.session.execute(query):
        language = code if code in LANGUAGES else default
        for key in ("", language):
            counts[key].customers += customers
            counts[key].reachable += int(able or 0)
    return AudienceCounts(counts)


def estimate(segments: int, reachable: int) -> tuple[Decimal, str]:
    """Return what ``reachable`` messages of ``segments`` segments cost, and the currency."""
    prices = pricing()
    return prices.price_per_segment * segments * reachable, prices.currency
