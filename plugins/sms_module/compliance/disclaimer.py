"""The first-SMS disclaimer (PRODUCT.md §5): before the first SMS a phone receives from a
shop, a message saying who writes, why, and how to stop. The text sent is kept in the
consent ledger."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import RedisError
from sqlalchemy import bindparam, select

from host.api import Company, Customer, db, get_redis, utcnow
from plugins.sms_module.models import (
    ConsentEvent,
    ConsentKind,
    Kind,
    Queue,
    SmsMessage,
    Source,
    Status,
    lifecycle,
)
from plugins.sms_module.models.codes import Step
from plugins.sms_module.models.statuses import is_refusal
from plugins.sms_module.texts import templates
from plugins.sms_module.texts.pricing import new_message

KIND = Kind.DISCLAIMER
# The carrier took it and did not report it lost: the phone had it, messages after it go.
REACHED_CARRIER = (Status.SENT, Status.DELIVERED)
PENDING = (Status.ACCEPTED, Status.SCHEDULED, Status.QUEUED, Status.SENDING)
# Ended at the carrier without reaching the phone (with a carrier's code or final status).
CARRIER_FAILURES = (Status.FAILED, Status.UNDELIVERED)
# How long one process may hold the right to write a phone's disclaimer (seconds).
WRITING_LEASE_SECONDS = 30


class State(enum.StrEnum):
    SENT = "sent"  # it reached the carrier: messages after it may go
    PENDING = "pending"  # it is on its way: messages after it wait
    FAILED = "failed"  # the last one failed at the carrier: messages waiting for it fail


def _newest_first(company_id: int, phone: str, *read):
    """The SELECT of ``read`` (columns, or the message) of the shop's disclaimers to
    ``phone``, the newest first."""
    return (
        select(*read)
        .where(
            SmsMessage.company_id == company_id,
            SmsMessage.phone == phone,
            SmsMessage.kind == KIND,
        )
        .order_by(SmsMessage.id.desc())
    )


@functools.cache
def _outcomes_statement():
    """``_outcomes``' statement, built once on first use (issue 14 point 7: a send asks it;
    not at import, which configures no mapper)."""
    return _newest_first(
        bindparam("company_id"), bindparam("phone"), SmsMessage.status, SmsMessage.failure_code
    )


def _outcomes(company_id: int, phone: str) -> list:
    """The status and failure code of the shop's disclaimers to ``phone``, the newest first
    (rows, not messages: a send asks it for every first-contact message, issue 14 point 7)."""
    params = {"company_id": company_id, "phone": phone}
    return list(db.session.execute(_outcomes_statement(), params))


def _carrier_failed(message) -> bool:
    """Tell whether a disclaimer (a message, or a row with its ``status`` and
    ``failure_code``) ended at the carrier without reaching the phone: Undelivered,
    or Failed with a carrier's code (a rule's refusal, or a Canceled one, is not: it never
    reached the carrier, and the next one may go)."""
    return message.status in CARRIER_FAILURES and not is_refusal(
        message.status, message.failure_code
    )


def state(company_id: int, phone: str) -> State | None:
    """Say whether the shop's disclaimer to ``phone`` went (``SENT``: one is Sent or
    Delivered), is on its way (``PENDING``), failed at the carrier (``FAILED``: the newest
    one ended Failed or Undelivered at the carrier, a permanent error or the last of its
    transient retries), or has to be written (``None``: none, or the newest was canceled or
    refused by a rule) (PRODUCT.md §5)."""
    found = _outcomes(company_id, phone)
    statuses = {message.status for message in found}
    if statuses & set(REACHED_CARRIER):
        return State.SENT
    if statuses & set(PENDING):
        return State.PENDING
    if found and _carrier_failed(found[0]):
        return State.FAILED
    return None


def last_failure(company_id: int, phone: str) -> SmsMessage | None:
    """Return the shop's newest disclaimer to ``phone`` when it failed at the carrier (see
    ``state``), else ``None``."""
    newest = db.session.scalar(_newest_first(company_id, phone, SmsMessage).limit(1))
    return newest if newest is not None and _carrier_failed(newest) else None


@contextmanager
def writing(company_id: int, phone: str) -> Iterator[bool]:
    """Hold, for the block, the right to write the shop's disclaimer to ``phone`` (a Redis
    lease of ``WRITING_LEASE_SECONDS``): yield ``True`` when this process has it, ``False``
    when another process is writing one right now (the caller writes none: that one will be
    on its way). The caller checks ``state`` and commits inside the block, so at most one
    disclaimer per phone and shop is ever on its way (PRODUCT.md §5)."""
    with writing_many(company_id, [phone]) as held:
        yield phone in held


@contextmanager
def writing_many(company_id: int, phones: list[str]) -> Iterator[set[str]]:
    """``writing`` for many phones at once, in one Redis round trip (a campaign's chunk of
    customers, issue 14 point 4): yield the phones whose lease this process holds."""
    redis = get_redis()
    keys = {phone: f"sms:disclaimer:writing:{company_id}:{phone}" for phone in phones}
    try:
        pipe = redis.pipeline(transaction=False)
        for key in keys.values():
            pipe.set(key, 1, nx=True, ex=WRITING_LEASE_SECONDS)
        held = {phone for phone, ok in zip(keys, pipe.execute(), strict=True) if ok}
    except RedisError:
        # Redis away (issue 15): none written now, the send is still accepted; the send
        # job writes the disclaimer if none is on its way (sending/checks.py).
        held = set()
    try:
        yield held
    finally:
        if held:
            redis.delete(*(keys[phone] for phone in held))


def message_for(
    company: Company, customer: Customer, phone: str, queue: Queue = Queue.TRANSACTIONAL
) -> SmsMessage:
    """Build (not commit) the disclaimer message for ``phone`` on ``queue``, due now."""
    language = templates.message_language(customer, company)
    text = templates.disclaimer_text(company, language)
    return new_message(company, customer, phone, text, KIND, utcnow(), queue)


def must_precede(kind: str, to_customer: bool) -> bool:
    """Tell whether a message of ``kind`` goes only after the phone's disclaimer (§5): every
    message to a customer but the disclaimer itself and the answer to STOP, START or HELP
    (the phone asked for it). A message to the shop's own staff needs none."""
    return to_customer and kind not in (KIND, Kind.KEYWORD_ANSWER)


def needed(company_id: int, phone: str, kind: str, to_customer: bool) -> bool:
    """Tell whether a new message of ``kind`` to ``phone`` must wait for a disclaimer that is
    not written yet: it needs one (``must_precede``) and none went or is on its way; after
    one that failed at the carrier, a new request gets one new try (§5)."""
    if not must_precede(kind, to_customer):
        return False
    return state(company_id, phone) in (None, State.FAILED)


def schedule_first(
    company: Company, customer: Customer | None, phone: str, queue: Queue = Queue.TRANSACTIONAL
) -> SmsMessage:
    """Add the phone's disclaimer to the session, Scheduled and due now, so it goes before
    the message that needed it (the caller commits and hands it to the outbox). It goes on
    that message's ``queue``: a campaign's first-contact disclaimers travel with the
    campaign, on its numbers, at its pace and in its turn (issue 14), never on the
    transactional numbers."""
    first = message_for(company, customer, phone, queue)
    lifecycle.start(first, Status.ACCEPTED, Source.MODULE, Step.DISCLAIMER)
    lifecycle.move(first, Status.SCHEDULED, Source.MODULE)
    db.session.add(first)
    return first


def record_sent(message: SmsMessage) -> None:
    """Keep the disclaimer's text in the consent ledger once the carrier has it."""
    if message.kind != KIND or message.customer_id is None:
        return
    already = db.session.scalar(
        select(ConsentEvent.id).where(
            ConsentEvent.kind == ConsentKind.DISCLAIMER_SENT,
            ConsentEvent.reference == message.provider_sid,
        )
    )
    if already:
        return
    db.session.add(
        ConsentEvent(
            company_id=message.company_id,
            customer_id=message.customer_id,
            phone=message.phone,
            kind=ConsentKind.DISCLAIMER_SENT,
            text=message.body,
            reference=message.provider_sid,
            obtained_at=utcnow(),
            recorded_at=utcnow(),
        )
    )
