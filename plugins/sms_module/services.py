"""The one send service: every page, hook, API call and campaign asks it to send.

It checks the rules of PRODUCT.md §3, §4, §5 and §8 in order; an accepted request
becomes a message that is Accepted then Scheduled, and is handed to the pipeline after
the commit. A refused request for a known customer is kept with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from host.extensions import db
from host.models import Company, Customer, option_enabled, utcnow
from host.phones import InvalidPhone, normalize_phone
from plugins.sms_module import disclaimer, dispatch, lifecycle
from plugins.sms_module.consent import has_consent
from plugins.sms_module.models import PlatformSettings, Queue, SmsMessage
from plugins.sms_module.opt_out import is_opted_out
from plugins.sms_module.segments import MessageTooLong, count_segments, price
from plugins.sms_module.statuses import Status

OPTION_NUMBER = 124


class SendRefused(Exception):
    """A send request broke a rule: ``code`` for programs, ``message`` for people."""

    def __init__(self, code: str, message: str, message_id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_id = message_id


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


def set_pricing(price_per_segment: Decimal, currency: str) -> Pricing:
    """Save the operator's price per segment (commits)."""
    if price_per_segment < 0:
        raise ValueError("The price per segment cannot be negative.")
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError("The currency is a three-letter code such as CAD or USD.")
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


def module_enabled(company: Company) -> bool:
    """Tell whether option 124 "Use the new SMS module" is on for ``company``."""
    return option_enabled(company.id, OPTION_NUMBER)


def module_off_message() -> str:
    return _(
        "The new SMS module is off for this shop: an administrator switches on option 124 "
        '"Use the new SMS module" in Configuration > General information > Options tab.'
    )


def location_message() -> str:
    return _(
        "Sending SMS needs the shop's country and province: fill them in Company management "
        "(Country and Province drop-down menus), then save."
    )


def request_send(
    company: Company,
    *,
    body: str,
    customer: Customer | None = None,
    to: str | None = None,
    queue: str = Queue.TRANSACTIONAL,
    send_at: datetime | None = None,
    kind: str = "manual",
    source: str = "staff",
    user_id: int | None = None,
    campaign: bool = False,
    dedupe_key: str | None = None,
    system: bool = False,
    campaign_id: int | None = None,
) -> SmsMessage:
    """Accept and schedule an SMS, or raise ``SendRefused`` with the broken rule.

    ``system``: the shop writes to its own staff (a reply forwarded to its cell number), not
    to a customer: no customer consent is asked; every other rule holds.
    ``campaign_id``: the message belongs to that marketing campaign (implies ``campaign``)."""
    if campaign_id is not None:
        campaign = True
    if dedupe_key:
        existing = db.session.scalar(select(SmsMessage).where(SmsMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    phone = None
    if customer is None and to:
        try:
            phone = normalize_phone(to, company.country)
        except InvalidPhone:
            phone = None
        else:
            customer = db.session.scalar(
                select(Customer)
                .where(Customer.company_id == company.id, Customer.mobile_phone == phone)
                .order_by(Customer.id)
                .limit(1)
            )
    elif customer is not None:
        phone = customer.mobile_phone

    if system:
        customer = None  # to the shop's own staff, even if a customer has that number too

    def refuse(code: str, message: str):
        message_id = None
        if customer is not None:
            message_id = _keep_refusal(
                company,
                customer,
                phone,
                body,
                queue,
                kind,
                code,
                message,
                source,
                user_id,
                campaign_id,
            )
        raise SendRefused(code, message, message_id)

    if not module_enabled(company):
        refuse("module_off", module_off_message())
    if not company.country or not company.province:
        refuse("location_missing", location_message())
    if not phone:
        if customer is not None and not customer.mobile_phone:
            refuse(
                "no_phone",
                _("The customer has no mobile phone: add one on the Customer Information tab."),
            )
        refuse("invalid_phone", _("The recipient's number is not a valid phone number."))
    if not body or not body.strip():
        refuse("empty_body", _("The message is empty: write the text to send."))
    try:
        count_segments(body, **segment_rule())
    except MessageTooLong as exc:
        refuse(
            "too_long",
            _(
                "The message has %(count)s characters; the limit is %(limit)s.",
                count=exc.characters,
                limit=exc.limit,
            ),
        )
    if queue not in {q.value for q in Queue}:
        refuse("invalid_queue", _("The queue is transactional or promotional."))
    if queue == Queue.PROMOTIONAL and not campaign:
        refuse(
            "promotional_needs_campaign",
            _("The promotional queue only sends the CRM's marketing campaigns."),
        )
    if not system and (customer is None or not has_consent(customer.id)):
        refuse(
            "no_consent",
            _(
                'No express consent is on record for this recipient: tick "Accepts communications '
                'by SMS" on the Customer Information tab, with the evidence, before sending.'
            ),
        )
    if is_opted_out(phone):
        refuse(
            "opted_out",
            _("This phone replied STOP: it receives no SMS from any shop until it texts START."),
        )

    message = new_message(company, customer, phone, body, kind, _due(send_at), Queue(queue))
    message.dedupe_key, message.created_by_id = dedupe_key, user_id
    message.campaign_id = campaign_id
    lifecycle.start(message, Status.ACCEPTED, source)
    first = None
    if not system and kind != disclaimer.KIND and disclaimer.state(company.id, phone) is None:
        # The phone's first SMS from this shop: the disclaimer goes first.
        first = disclaimer.message_for(company, customer, phone)
        lifecycle.start(first, Status.ACCEPTED, "module", "first SMS to this phone")
        lifecycle.move(first, Status.SCHEDULED, "module")
        db.session.add(first)
    lifecycle.move(message, Status.SCHEDULED, "module", f"due {message.send_at.isoformat()}")
    db.session.add(message)
    try:
        db.session.commit()
    except IntegrityError:
        # The same event, accepted at the same moment by another process: send it once.
        db.session.rollback()
        existing = db.session.scalar(select(SmsMessage).where(SmsMessage.dedupe_key == dedupe_key))
        if existing is None:
            raise
        return existing
    if first is not None:
        dispatch.message_scheduled(first.id)
    dispatch.message_scheduled(message.id)
    return message


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


def _due(send_at: datetime | None) -> datetime:
    now = utcnow()
    if send_at is None:
        return now
    if send_at.tzinfo is None:
        send_at = send_at.replace(tzinfo=UTC)
    return max(send_at, now)


def _keep_refusal(
    company, customer, phone, body, queue, kind, code, text, source, user_id, campaign_id=None
):
    """Keep a refused request as a Failed message with its reason: the audit trail."""
    message = SmsMessage(
        company_id=company.id,
        customer_id=customer.id,
        phone=phone or customer.mobile_phone or "",
        body=body or "",
        queue=Queue.TRANSACTIONAL if queue not in {q.value for q in Queue} else Queue(queue),
        kind=kind,
        failure_code=code,
        failure_reason=text,
        created_by_id=user_id,
        campaign_id=campaign_id,
    )
    lifecycle.start(message, Status.FAILED, source, f"refused: {code}")
    db.session.add(message)
    db.session.commit()
    return message.id


def cancel_scheduled(customer_id: int, source: str, reason: str) -> int:
    """Cancel the customer's messages that have not reached a worker; return how many."""
    from plugins.sms_module.statuses import CANCELABLE

    rows = db.session.scalars(
        select(SmsMessage)
        .where(SmsMessage.customer_id == customer_id, SmsMessage.status.in_(CANCELABLE))
        .with_for_update()
    ).all()
    count = sum(lifecycle.move(m, Status.CANCELED, source, reason) for m in rows)
    db.session.commit()
    return count
