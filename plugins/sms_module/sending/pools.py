"""Sender pools: the numbers of each queue, their rates, and which number a phone hears from.

A customer's phone keeps hearing from the same number of a pool (sticky sender). Numbers are
shared by every shop, so a new conversation prefers a number on which that phone talks to no
other shop: a reply from the phone to that number then belongs to exactly one shop. The
numbers of PRODUCT.md §7 are seeded by migration ``0711227b74c1``; the operator manages them
with ``crmhost sms numbers`` and the Sender numbers page.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal

import phonenumbers
from flask_babel import gettext as _
from phonenumbers import PhoneNumberType
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from host.api import InvalidPhone, db, normalize_phone, utcnow
from plugins.sms_module.models import Conversation, Queue, SenderNumber
from plugins.sms_module.texts.labels import queue_label
from plugins.sms_module.texts.pricing import decimal_text, read_decimal

# Short codes reach 100 segments/s; nothing we send on needs more than this.
MAX_RATE = Decimal(1000)


class PoolError(ValueError):
    """A pool change or a sender choice that cannot be done, with the reason."""


def pool(queue: Queue | str) -> list[SenderNumber]:
    """Return the enabled numbers of ``queue``'s pool, oldest first."""
    return list(
        db.session.scalars(
            select(SenderNumber)
            .where(SenderNumber.queue == parse_queue(queue), SenderNumber.enabled.is_(True))
            .order_by(SenderNumber.id)
        )
    )


def all_numbers() -> list[SenderNumber]:
    """Return every number, by queue then age."""
    return list(
        db.session.scalars(select(SenderNumber).order_by(SenderNumber.queue, SenderNumber.id))
    )


def conversation_counts() -> dict[int, int]:
    """Return how many conversations each number carries, by number id."""
    rows = db.session.execute(
        select(Conversation.sender_number_id, func.count()).group_by(Conversation.sender_number_id)
    )
    return {number_id: count for number_id, count in rows}


def parse_queue(queue: Queue | str) -> Queue:
    """Return ``queue`` as a Queue, or raise PoolError naming the valid ones."""
    try:
        return Queue(str(queue).strip().lower())
    except ValueError:
        names = ", ".join(q.value for q in Queue)
        raise PoolError(
            _("%(queue)r is not a queue: use one of %(names)s.", queue=str(queue), names=names)
        ) from None


def parse_rate(rate: Decimal | float | int | str) -> Decimal:
    """Return ``rate`` as segments per second, or raise PoolError saying what is allowed.
    A text is read in the reader's number format ("0,5" in French, "0.5" in either:
    ``texts.pricing.read_decimal``); the examples are written in it too."""
    value = rate if isinstance(rate, Decimal) else read_decimal(str(rate))
    if value is None or not value.is_finite() or value <= 0 or value > MAX_RATE:
        raise PoolError(
            _(
                "%(rate)r is not a rate: give segments per second above 0 and at most %(max)s, "
                "e.g. 1 for a long code.",
                rate=str(rate),
                max=decimal_text(MAX_RATE),
            )
        )
    if value != value.quantize(Decimal("0.001")):
        raise PoolError(
            _(
                "Give the rate with 3 decimals at most, e.g. %(half)s or %(quarter)s.",
                half=decimal_text(Decimal("0.5")),
                quarter=decimal_text(Decimal("1.25")),
            )
        )
    return value


def parse_number(number: str) -> str:
    """Return ``number`` in E.164, or raise PoolError."""
    try:
        return normalize_phone(number or "")
    except InvalidPhone:
        raise PoolError(
            _("%(number)r is not a phone number such as +1 438 601 3562.", number=number)
        ) from None


def get_number(number: str) -> SenderNumber:
    """Return the pool number ``number`` (any format), or raise PoolError."""
    e164 = parse_number(number)
    row = db.session.scalar(select(SenderNumber).where(SenderNumber.number == e164))
    if row is None:
        raise PoolError(_("%(number)s is in no pool.", number=e164))
    return row


SENDER_REGIONS = frozenset({"CA", "US"})
SENDER_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
FICTIONAL_LINES = range(100, 200)  # 555-0100 to 555-0199 (NANPA: for films and books)
# What a sender number may be written with (issue 12 review, point 6): nothing else.
NUMBER_CHARACTERS = re.compile(r"[0-9 +\-().]+")


def sender_number_problem(text: str) -> str | None:
    """Say why ``text`` cannot be a sender number, or ``None`` when it is a Canadian or US
    long code able to send SMS (issue 12, point 8).

    A number is written with digits, spaces, "+", "-", "(", ")" and "." only
    (``NUMBER_CHARACTERS``): "+15145550142x" or a number with an extension is no number
    (phonenumbers would read a trailing letter as an extension and drop it). A +1 number is
    checked for its region first, valid or not: "+1 242 555 0100" (the Bahamas) is a number
    elsewhere, not a typing error.

    A number must be a valid North American long code of Canada or the United States
    (``SENDER_REGIONS``), of type mobile or fixed-line-or-mobile (what phonenumbers calls a
    geographic NANP number; a long code is one). Refused: a number elsewhere, even on +1
    (Jamaica, Puerto Rico: other carriers' rules), a toll-free number (its own verification
    and rates: not a pool's long code), premium-rate, shared-cost, personal (5XX: "+1 500
    555 0006" is Twilio's magic test number), VoIP or pager numbers, and 555-0100 to
    555-0199, reserved for fiction (NANPA).
    """
    not_a_number = _("%(number)s is not a phone number such as +1 438 601 3562.", number=text)
    if not NUMBER_CHARACTERS.fullmatch(text or "") or not any(ch.isdigit() for ch in text):
        return not_a_number
    try:
        number = phonenumbers.parse(text, "CA")
    except phonenumbers.NumberParseException:
        return not_a_number
    region = phonenumbers.region_code_for_number(number)
    elsewhere = _(
        "%(number)s is not a Canadian or US number: the pools send from North American "
        "long codes, such as +1 438 601 3562.",
        number=text,
    )
    if (
        number.country_code == 1
        and phonenumbers.is_possible_number(number)
        and region is not None
        and region not in SENDER_REGIONS
    ):
        return elsewhere
    if not phonenumbers.is_valid_number(number):
        return not_a_number
    if region not in SENDER_REGIONS:
        return elsewhere
    national = f"{number.national_number:010d}"
    if national[3:6] == "555" and int(national[6:]) in FICTIONAL_LINES:
        return _("%(number)s is reserved for fiction (555-0100 to 555-0199).", number=text)
    if phonenumbers.number_type(number) not in SENDER_TYPES:
        return _(
            "%(number)s cannot be a pool's number: give a long code (a mobile or local "
            "number), not a toll-free, premium-rate or personal number.",
            number=text,
        )
    return None


def add_number(number: str, queue: Queue | str, rate: Decimal | float | str = 1) -> SenderNumber:
    """Add ``number`` to ``queue``'s pool, enabled, at ``rate`` segments per second.
    Raises ``PoolError`` (its message for people) for a number that cannot send SMS
    (``sender_number_problem``), a known number, an unknown queue or a rate out of bounds."""
    if (problem := sender_number_problem(number)) is not None:
        raise PoolError(problem)
    e164, target, value = parse_number(number), parse_queue(queue), parse_rate(rate)
    existing = db.session.scalar(select(SenderNumber).where(SenderNumber.number == e164))
    if existing is not None:
        raise PoolError(
            _(
                "The number %(number)s is already in the pool of the %(queue)s queue.",
                number=e164,
                queue=queue_label(existing.queue),
            )
        )
    row = SenderNumber(number=e164, queue=target, rate=value, enabled=True)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise PoolError(_("%(number)s was just added by someone else.", number=e164)) from None
    db.session.commit()
    return row


def disable_number(number: str) -> SenderNumber:
    """Stop sending on ``number``; its conversations move to another number on their next send."""
    return _set_enabled(number, False)


def enable_number(number: str) -> SenderNumber:
    """Send on ``number`` again."""
    return _set_enabled(number, True)


def _set_enabled(number: str, enabled: bool) -> SenderNumber:
    row = get_number(number)
    row.enabled = enabled
    db.session.commit()
    return row


def set_rate(number: str, rate: Decimal | float | str) -> SenderNumber:
    """Set how many segments per second the carrier allows ``number``."""
    row = get_number(number)
    row.rate = parse_rate(rate)
    db.session.commit()
    return row


def sender_for(company_id: int, phone: str, queue: Queue | str) -> SenderNumber:
    """Return the number ``phone`` hears from in ``queue`` for the shop, choosing one if needed.

    The conversation row is added or moved in the session (flushed, not committed): the caller
    commits it with the message it is sending.
    """
    target = parse_queue(queue)
    conversation = _conversation(company_id, phone, target)
    if conversation is not None and conversation.sender_number.enabled:
        return conversation.sender_number
    choice = _choose(company_id, phone, target)
    if conversation is not None:
        conversation.sender_number = choice
        conversation.last_message_at = utcnow()
        db.session.flush()
        return choice
    try:
        with db.session.begin_nested():
            db.session.add(
                Conversation(company_id=company_id, phone=phone, queue=target, sender_number=choice)
            )
    except IntegrityError:
        # Another worker started this conversation at the same moment: keep its choice.
        conversation = _conversation(company_id, phone, target)
        if conversation is None:
            raise
        return conversation.sender_number
    return choice


def touch(conversation: Conversation) -> None:
    """Note that the conversation just carried a message."""
    conversation.last_message_at = utcnow()


def _conversation(company_id: int, phone: str, queue: Queue) -> Conversation | None:
    """Return the conversation with its number, read in one statement (a send reads both)."""
    params = {"company_id": company_id, "phone": phone, "queue": queue}
    return db.session.scalar(_conversation_statement(), params)


@functools.cache
def _conversation_statement():
    """``_conversation``'s statement, built on first use (not at import: no mapper is
    configured then), once: a send reads it (issue 14 point 7)."""
    match = [getattr(Conversation, k) == bindparam(k) for k in ("company_id", "phone", "queue")]
    joined = joinedload(Conversation.sender_number, innerjoin=True)
    return select(Conversation).where(*match).options(joined)


def _choose(company_id: int, phone: str, queue: Queue) -> SenderNumber:
    numbers = pool(queue)
    if not numbers:
        raise PoolError(
            _(
                "The pool of the %(queue)s queue has no enabled number.",
                queue=queue_label(queue),
            )
        )
    # Numbers on which this phone already talks to another shop: a reply there is ambiguous.
    shared = set(
        db.session.scalars(
            select(Conversation.sender_number_id).where(
                Conversation.phone == phone, Conversation.company_id != company_id
            )
        )
    )
    used = conversation_counts()
    return min(numbers, key=lambda n: (n.id in shared, used.get(n.id, 0), n.id))
