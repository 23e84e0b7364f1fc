"""A campaign's audience (PRODUCT.md §7, §10): the shop's customers with a mobile phone, in
a language if chosen, and whom of them it reaches in each language: the phones that may
receive it (consent on record, not opted out: §4, §5), each once, and of those the phones
that get the first-SMS disclaimer before it (§5)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select

from host.api import Company, Customer, db
from plugins.sms_module.compliance import consent, disclaimer, opt_out
from plugins.sms_module.models import Kind, OptOut, SmsMessage
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
class Reach:
    """Whom a campaign reaches among the customers reading one language.

    ``customers``: customers with a mobile phone; ``phones``: the phones that may receive
    it (consent on record, not opted out), each once however many customers share it;
    ``first_time``: of those phones, the ones the shop never texted, which get the first-SMS
    disclaimer before the campaign (§5)."""

    customers: int = 0
    phones: int = 0
    first_time: int = 0


def reach(company: Company, language: str | None) -> dict[str, Reach]:
    """Return whom the campaign reaches, by message language ("en", "fr"), as its fan-out
    will send: customers by id, a phone to the first customer of it who may receive it,
    in that customer's language (``message_language``). Two queries, whatever the size."""
    consenting = consent.consenting_customers(company.id)
    reachable = case((and_(consenting.c.customer_id.is_not(None), OptOut.id.is_(None)), 1), else_=0)
    query = (
        audience(company, language)
        .with_only_columns(Customer.language, Customer.mobile_phone, reachable)
        .outerjoin(consenting, consenting.c.customer_id == Customer.id)
        .outerjoin(OptOut, opt_out.listed(Customer.mobile_phone))
        .order_by(Customer.id)
    )
    told = _disclaimed_phones(company)
    default = message_language(None, company)
    found = {code: Reach() for code in LANGUAGES}
    reached: set[str] = set()
    for spoken, phone, able in db.session.execute(query):
        code = (spoken or "").strip().lower()[:2]
        line = found[code if code in LANGUAGES else default]
        line.customers += 1
        if able and phone not in reached:
            reached.add(phone)
            line.phones += 1
            line.first_time += int(phone not in told)
    return found


def _disclaimed_phones(company: Company) -> set[str]:
    """The phones the shop's disclaimer reached or is on its way to (``disclaimer.state``
    is not None): they get none before the campaign."""
    return set(
        db.session.scalars(select(SmsMessage.phone).where(disclaimed_rows(company.id)).distinct())
    )


# The statuses of a disclaimer that went (it reached the carrier) or is on its way: a phone
# with one needs no other (``disclaimer.state`` is SENT or PENDING; PRODUCT.md §5).
DISCLAIMED = disclaimer.REACHED_CARRIER + disclaimer.PENDING


def disclaimed_rows(company_id: int):
    """The condition on ``SmsMessage`` rows: the shop's disclaimers that went or are on
    their way."""
    return and_(
        SmsMessage.company_id == company_id,
        SmsMessage.kind == Kind.DISCLAIMER,
        SmsMessage.status.in_(DISCLAIMED),
    )
