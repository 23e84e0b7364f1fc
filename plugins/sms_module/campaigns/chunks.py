"""One chunk of a campaign's fan-out (issue 14 point 4): the next customers of its audience
the campaign has not asked yet, read in one query with what the send service's rules need
to know of each, and what becomes of each.

The facts come from the rules' own SQL twins, over the whole chunk: express consent on
record (``consent.consents``, PRODUCT.md §4) and the phone on the opt-out list
(``opt_out.listed``, §5), joined to the customers; whether the shop's disclaimer to the
phone went or is on its way (``audience.disclaimed_rows``, §5) and whether the phone has the
campaign through another customer are known to the run (``Seen``). The decision is the send
service's, in its order (``service.CHECKS``): the text (per language:
``service.INPUT_CHECKS``, nothing stored when it fails), the shop (``rules.shop_refusal``,
asked once per chunk), consent, opt-out; a refused customer is kept as a Failed message with
the rule's code, an accepted one gets the campaign once per phone, and the first of a phone
the shop never texted gets the disclaimer before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import or_, select

from host.api import Company, Customer, db
from plugins.sms_module.campaigns import review
from plugins.sms_module.campaigns.audience import audience, disclaimed_rows
from plugins.sms_module.compliance import consent, opt_out
from plugins.sms_module.models import FailureCode, Kind, OptOut, Queue, SmsMessage, Status
from plugins.sms_module.sending import service
from plugins.sms_module.texts import templates
from plugins.sms_module.texts.pricing import pricing, segment_rule
from plugins.sms_module.texts.segments import count_segments, price

KIND = Kind.CAMPAIGN
QUEUE = Queue.PROMOTIONAL
# Customers read, decided and written per transaction.
SIZE = 5000


@dataclass(frozen=True)
class Text:
    """One language's text, counted and priced (§8): what its messages store."""

    body: str
    segments: int
    encoding: str
    price_per_segment: Decimal
    price: Decimal
    currency: str


@dataclass
class Plan:
    """What becomes of a chunk's customers (rows of ``read``): ``refused`` with the rule's
    code, ``accepted`` (one per phone), and ``first_contact``: phone → the customer whose
    message needs the shop's disclaimer first (one per phone)."""

    refused: list[tuple] = field(default_factory=list)
    accepted: list = field(default_factory=list)
    first_contact: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Asked:
    """A customer of the chunk and the facts the rules need (see ``read``)."""

    id: int
    mobile_phone: str
    language: str | None
    consenting: bool
    opted_out: bool
    reached: bool
    told: bool


@dataclass
class Seen:
    """What a fan-out run knows of the rows already written, read once when it starts and
    kept as it writes (the unique key ``campaign:<campaign>:<customer>`` stops a second run
    writing at the same moment, whose rows this one would not know: its chunk fails whole
    and is read again): the customers the campaign asked, the phones that have its message
    (not a refusal: a shared phone gets it once), and the phones the shop's disclaimer went
    to or is on its way to (asked again, for the chunk's new ones, under the writing leases:
    ``told_already``)."""

    asked: set[int] = field(default_factory=set)
    reached: set[str] = field(default_factory=set)
    told: set[str] = field(default_factory=set)


def seen(company_id: int, campaign_id: int) -> Seen:
    """Read what is written already (three queries, once per run)."""
    mine = (SmsMessage.campaign_id == campaign_id, SmsMessage.kind == KIND)
    not_refused = or_(SmsMessage.status != Status.FAILED, SmsMessage.attempts > 0)
    return Seen(
        _values(SmsMessage.customer_id, *mine),
        _values(SmsMessage.phone, *mine, not_refused),
        _values(SmsMessage.phone, disclaimed_rows(company_id)),
    )


def read(company: Company, language: str | None, after: int, known: Seen):
    """Return (the last customer id read, the customers to ask): the next ``SIZE`` customers
    of the audience after id ``after``, by id, with consent and opt-out (one statement, an
    index lookup per customer, never a probe into the campaign's growing rows), less those
    the campaign asked already, each an ``Asked``; (``after``, []) once none is left."""
    found = db.session.execute(
        audience(company, language)
        .with_only_columns(
            Customer.id,
            Customer.mobile_phone,
            Customer.language,
            consent.consents(Customer.id),
            OptOut.id.is_not(None),
        )
        .outerjoin(OptOut, opt_out.listed(Customer.mobile_phone))
        .where(Customer.id > after)
        .order_by(Customer.id)
        .limit(SIZE)
    ).all()
    if not found:
        return after, []
    return found[-1][0], [
        Asked(
            cid, phone, spoken, bool(yes), bool(stop), phone in known.reached, phone in known.told
        )
        for cid, phone, spoken, yes, stop in found
        if cid not in known.asked
    ]


def dedupe_key(campaign_id: int, customer_id: int) -> str:
    """The campaign's idempotency key for a customer: one message per customer, ever."""
    return f"campaign:{campaign_id}:{customer_id}"


def _values(column, *conditions) -> set:
    return set(db.session.scalars(select(column).where(*conditions).distinct()))


def texts(company: Company, body: str, body_fr: str | None, campaign_id: int) -> dict:
    """Return, per message language, the campaign's whole message (``review.message_text``)
    counted and priced, or None when the send service would refuse it as malformed (empty,
    a broken character, too long: ``service.INPUT_CHECKS``)."""
    prices = pricing()
    found: dict[str, Text | None] = {}
    for code in templates.LANGUAGES:
        text = review.message_text(company, body, body_fr, code)
        asked = service.SendRequest(
            company, body=text, queue=QUEUE, kind=KIND, campaign_id=campaign_id
        )
        bad = any(check(asked) for check in service.INPUT_CHECKS)
        found[code] = None if bad else priced(text, prices)
    return found


def notes(company: Company) -> dict[str, Text]:
    """Return, per language, the shop's first-SMS disclaimer counted and priced (§5)."""
    prices = pricing()
    return {
        code: priced(templates.disclaimer_text(company, code), prices)
        for code in templates.LANGUAGES
    }


def priced(body: str, prices) -> Text:
    """Count ``body``'s segments and price them at ``prices`` (``pricing()``, §8)."""
    count = count_segments(body, **segment_rule())
    return Text(
        body,
        count.segments,
        count.encoding,
        prices.price_per_segment,
        price(count.segments, prices.price_per_segment),
        prices.currency,
    )


def plan(company: Company, rows, found: dict, shop_code: str | None) -> Plan:
    """Decide, customer by customer in id order, as the send service would (``service.CHECKS``
    order): nothing for a malformed text, else refused by the shop, consent or opt-out,
    else the campaign once per phone, with the disclaimer first for a phone never told."""
    result = Plan()
    reached: set[str] = set()
    for row in rows:
        language = templates.message_language(row, company)
        if found.get(language) is None:
            continue  # malformed: a form error for the send service, nothing stored
        code = shop_code
        if code is None and not row.consenting:
            code = FailureCode.NO_CONSENT
        if code is None and row.opted_out:
            code = FailureCode.OPTED_OUT
        if code is not None:
            result.refused.append((row, language, code))
            continue
        phone = row.mobile_phone
        if row.reached or phone in reached:
            continue  # a shared phone gets it once
        reached.add(phone)
        result.accepted.append((row, language))
        if not row.told and phone not in result.first_contact:
            result.first_contact[phone] = (row, language)
    return result


def told_already(company_id: int, phones: list[str]) -> set[str]:
    """Return those of ``phones`` the shop's disclaimer went to or is on its way to (asked
    again under the writing leases: another process may have written one meanwhile)."""
    if not phones:
        return set()
    return _values(SmsMessage.phone, disclaimed_rows(company_id), SmsMessage.phone.in_(phones))
