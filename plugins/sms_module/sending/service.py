"""The one send service: every page, hook, API call and campaign asks it to send.

A request (``SendRequest``) goes through ``CHECKS``: first the shape of what was asked (text
and queue, §8 and §7: a malformed request stores nothing), then the rules in the order of
PRODUCT.md §3, §4 and §5; the first that refuses stops it, and a refusal for a known customer
is kept as a Failed message with its code (the audit trail). An accepted request becomes a
Scheduled message, after the phone's disclaimer when it is the shop's first SMS to it (§5),
handed to the outbox after the commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from host.api import Company, Customer, InvalidPhone, db, normalize_phone, utcnow
from plugins.sms_module.compliance import disclaimer, guards, rules
from plugins.sms_module.compliance.rules import Refusal
from plugins.sms_module.models import (
    FailureCode,
    Kind,
    Queue,
    SmsMessage,
    Source,
    Status,
    lifecycle,
)
from plugins.sms_module.models.codes import Step, coded
from plugins.sms_module.sending import outbox
from plugins.sms_module.texts.pricing import new_message, segment_rule
from plugins.sms_module.texts.segments import MessageTooLong, count_segments

NUL = "\x00"
# A surrogate code point in a Python text is lone: UTF-8, and so every database, refuses it.
SURROGATE = re.compile("[\ud800-\udfff]")


class SendRefused(Exception):
    """A send request broke a rule: ``code`` for programs, ``message`` for people, and the
    id of the Failed message kept for the audit trail (None when no customer was known)."""

    def __init__(self, code: str, message: str, message_id: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.message_id = code, message, message_id


@dataclass
class SendRequest:
    """What a caller asks the send service to send, and the recipient it resolves to.

    ``system``: the shop writes to its own staff (a reply forwarded to its cell number), not
    to a customer: no customer consent is asked; every other rule holds.
    ``campaign_id``: the message belongs to that marketing campaign (implies ``campaign``).
    ``dedupe_key``: the idempotency key; a second request with it returns the first message.
    ``fingerprint``: a hash of the request, kept to tell a replay from a reused key.
    ``truth``: what keeps an event's text true (``compliance.guards``), checked again just
    before the carrier call.
    """

    company: Company
    body: str
    customer: Customer | None = None
    to: str | None = None
    queue: str = Queue.TRANSACTIONAL
    send_at: datetime | None = None
    kind: str = Kind.MANUAL
    source: str = Source.STAFF
    user_id: int | None = None
    campaign: bool = False
    dedupe_key: str | None = None
    fingerprint: str | None = None
    system: bool = False
    campaign_id: int | None = None
    truth: guards.Truth | None = None
    phone: str | None = None  # the recipient's E.164 number, once resolved

    def __post_init__(self) -> None:
        if self.campaign_id is not None:
            self.campaign = True


Check = Callable[[SendRequest], Refusal | None]


def check_shop(request: SendRequest) -> Refusal | None:
    """The shop's module is on and its location is filled (PRODUCT.md §3)."""
    return rules.shop_refusal(request.company)


def check_phone(request: SendRequest) -> Refusal | None:
    """The recipient has a valid mobile phone."""
    if request.phone:
        return None
    if request.customer is not None and not request.customer.mobile_phone:
        return Refusal(
            FailureCode.NO_PHONE,
            _("The customer has no mobile phone: add one on the Customer Information tab."),
        )
    return Refusal(
        FailureCode.INVALID_PHONE, _("The recipient's number is not a valid phone number.")
    )


def check_body(request: SendRequest) -> Refusal | None:
    """The text is not empty, has no NUL nor lone surrogate (neither can be stored) and fits
    the length limit (PRODUCT.md §8: 1,600 characters)."""
    if not request.body or not request.body.strip():
        return Refusal(FailureCode.EMPTY_BODY, _("The message is empty: write the text to send."))
    if SURROGATE.search(request.body):
        return Refusal(
            FailureCode.INVALID_CHARACTERS,
            _("The message contains a broken character (a lone surrogate): type it again."),
        )
    if NUL in request.body:
        return Refusal(
            FailureCode.INVALID_CHARACTERS,
            _("The message contains a NUL character, which no SMS can carry: remove it."),
        )
    try:
        count_segments(request.body, **segment_rule())
    except MessageTooLong as exc:
        return Refusal(
            FailureCode.TOO_LONG,
            _(
                "The message has %(count)s characters; the limit is %(limit)s.",
                count=exc.characters,
                limit=exc.limit,
            ),
        )
    return None


def check_queue(request: SendRequest) -> Refusal | None:
    """The queue exists, and only campaigns use the promotional one (PRODUCT.md §7)."""
    if request.queue not in {q.value for q in Queue}:
        return Refusal(FailureCode.INVALID_QUEUE, _("The queue is transactional or promotional."))
    if request.queue == Queue.PROMOTIONAL and not request.campaign:
        return Refusal(
            FailureCode.PROMOTIONAL_NEEDS_CAMPAIGN,
            _("The promotional queue only sends the CRM's marketing campaigns."),
        )
    return None


def check_consent(request: SendRequest) -> Refusal | None:
    """A customer's express consent is on record (PRODUCT.md §4); staff need none."""
    if request.system:
        return None
    return rules.consent_refusal(request.customer.id if request.customer else None)


def check_opt_out(request: SendRequest) -> Refusal | None:
    """The phone is not on the platform-wide opt-out list (PRODUCT.md §5)."""
    return rules.opt_out_refusal(request.phone)


# What was asked is malformed: a form error, nothing stored (an empty text is no message).
INPUT_CHECKS: tuple[Check, ...] = (check_body, check_queue)
# A rule refuses a well-formed request: kept as the audit row of the refusal (§4).
RULE_CHECKS: tuple[Check, ...] = (check_shop, check_phone, check_consent, check_opt_out)
CHECKS: tuple[Check, ...] = INPUT_CHECKS + RULE_CHECKS


def request_send(company: Company, **options) -> SmsMessage:
    """``accept``'s message: the Scheduled one, or the earlier one with its ``dedupe_key``."""
    return accept(company, **options).message


class Accepted(NamedTuple):
    message: SmsMessage
    created: bool  # False: an earlier request with the same dedupe_key stored it


def accept(company: Company, **options) -> Accepted:
    """Accept and schedule an SMS, or raise ``SendRefused`` with the broken rule.

    ``options`` are the fields of ``SendRequest`` (``body`` required). Commits. Tells
    whether this call stored the message, even when two with one key arrive at once: a
    replayed Idempotency-Key answers 200, never 201 (draft-ietf-httpapi-idempotency-key)."""
    request = SendRequest(company, **options)
    if request.dedupe_key:
        existing = by_key(request.dedupe_key)
        if existing is not None:
            return Accepted(existing, False)
    _resolve_recipient(request)
    for check in CHECKS:
        refusal = check(request)
        if refusal is not None:
            kept = _keep_refusal(request, refusal) if check in RULE_CHECKS else None
            raise SendRefused(refusal.code, refusal.message, kept)
    return _accept(request)


def by_key(dedupe_key: str) -> SmsMessage | None:
    """Return the message accepted with idempotency key ``dedupe_key``, or ``None``."""
    return db.session.scalar(select(SmsMessage).where(SmsMessage.dedupe_key == dedupe_key))


def _resolve_recipient(request: SendRequest) -> None:
    """Find the phone (E.164) and, for a number typed in, the shop's customer who has it."""
    if request.customer is None and request.to:
        try:
            request.phone = normalize_phone(request.to, request.company.country)
        except InvalidPhone:
            request.phone = None
        else:
            request.customer = db.session.scalar(
                select(Customer)
                .where(
                    Customer.company_id == request.company.id,
                    Customer.mobile_phone == request.phone,
                )
                .order_by(Customer.id)
                .limit(1)
            )
    elif request.customer is not None:
        request.phone = request.customer.mobile_phone
    if request.system:
        request.customer = None  # to the shop's own staff, even if a customer has that number


def _accept(request: SendRequest) -> Accepted:
    """Commit the message Scheduled, its disclaimer first if the phone needs one."""
    company, customer, phone = request.company, request.customer, request.phone
    queue = Queue(request.queue)
    message = new_message(
        company, customer, phone, request.body, request.kind, _due(request.send_at), queue
    )
    message.dedupe_key, message.created_by_id = request.dedupe_key, request.user_id
    message.request_fingerprint = request.fingerprint
    message.campaign_id = request.campaign_id
    if request.truth is not None:
        request.truth.stamp(message)
    lifecycle.start(message, Status.ACCEPTED, request.source)
    first = None
    # Another process writing this phone's disclaimer right now: it is on its way, and the
    # send job writes one if it is not (never two on their way, §5).
    with disclaimer.writing(company.id, phone) as mine:
        if mine and disclaimer.needed(company.id, phone, request.kind, customer is not None):
            first = disclaimer.schedule_first(company, customer, phone, queue)
            first.campaign_id = request.campaign_id  # a campaign's cost, canceled with it
        due = coded(Step.DUE, message.send_at.isoformat())
        lifecycle.move(message, Status.SCHEDULED, Source.MODULE, due)
        db.session.add(message)
        try:
            db.session.commit()
        except IntegrityError:
            # The same event, accepted at the same moment by another process: send it once.
            db.session.rollback()
            existing = by_key(request.dedupe_key) if request.dedupe_key else None
            if existing is None:
                raise
            return Accepted(existing, False)
    if first is not None:
        outbox.message_scheduled(first.id)
    outbox.message_scheduled(message.id)
    return Accepted(message, True)


def _due(send_at: datetime | None) -> datetime:
    now = utcnow()
    if send_at is None:
        return now
    if send_at.tzinfo is None:
        send_at = send_at.replace(tzinfo=UTC)
    return max(send_at, now)


def _keep_refusal(request: SendRequest, refusal: Refusal) -> int | None:
    """Keep a refused request for a known customer as a Failed message with its reason."""
    customer = request.customer
    if customer is None:
        return None
    queue = request.queue
    message = SmsMessage(
        company_id=request.company.id,
        customer_id=customer.id,
        phone=request.phone or customer.mobile_phone or "",
        body=request.body,
        queue=Queue(queue) if queue in {q.value for q in Queue} else Queue.TRANSACTIONAL,
        kind=request.kind,
        created_by_id=request.user_id,
        campaign_id=request.campaign_id,
    )
    if request.truth is not None:
        request.truth.stamp(message)  # the appointment it is about: shown, resent while true
    lifecycle.refused(message, refusal.code, None, request.source)  # its code, never words
    db.session.add(message)
    db.session.commit()
    return message.id
