"""A customer's SMS kept, routed and given its history in the fewest SQL statements
(issue 14, point 5); what ``inbound`` does for every reply that is no keyword.

Routing (PRODUCT.md §9) is an SQL expression: the shop of the last message that went to the
phone from the number it wrote to (one backward step on the index ``(phone, sender_number,
id)``), else the shop of a conversation started on that number whose first message has
not gone yet. The row is inserted with ``ON CONFLICT (provider_sid) DO NOTHING``: a SMS the
carrier delivers twice, even at the same moment, is kept once, the second insert finding
the first (stored once: MessageSid is unique). On PostgreSQL the insert, its routing and
its two history lines (Receiving, Received) are one statement (data-modifying CTEs), its
own transaction when the request has none open (``sending.alone``: one round trip); on
SQLite the history is a second statement, and the caller commits.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, func, insert, literal_column, null, select, true, union_all
from sqlalchemy.dialects import postgresql, sqlite

from host.api import Customer, db
from plugins.sms_module.models import (
    Conversation,
    Direction,
    Kind,
    Queue,
    SenderNumber,
    SmsMessage,
    SmsStatusChange,
    Source,
    Status,
)
from plugins.sms_module.models.codes import Step, coded
from plugins.sms_module.sending.alone import first_row

MESSAGES = SmsMessage.__table__
HISTORY = SmsStatusChange.__table__
# Statuses of an outbound message that reached (or was on its way to) the carrier.
WENT_OUT = (Status.SENDING, Status.SENT, Status.DELIVERED, Status.UNDELIVERED)


def shop_of(phone: str, number: str):
    """Return the SQL expression of the shop a reply from ``phone`` to our ``number``
    answers (module docstring); NULL when none: the operator's."""
    last_sent = (
        select(MESSAGES.c.company_id)
        .where(
            MESSAGES.c.phone == phone,
            MESSAGES.c.sender_number == number,
            MESSAGES.c.direction != Direction.INBOUND,
            MESSAGES.c.company_id.is_not(None),
            MESSAGES.c.status.in_([_constant(status) for status in WENT_OUT]),
        )
        .order_by(MESSAGES.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    # A conversation started, its first message not gone yet.
    started = (
        select(Conversation.company_id)
        .join(SenderNumber, SenderNumber.id == Conversation.sender_number_id)
        .where(Conversation.phone == phone, SenderNumber.number == number)
        .order_by(Conversation.last_message_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(last_sent, started)


def keep_reply(
    sid: str, phone: str, number: str, body: str, segments: int, at: datetime
) -> tuple[int, int | None] | None:
    """Insert the Received SMS ``sid`` from ``phone`` to ``number`` with its routing (shop,
    that shop's customer with the phone, the number's queue) and its history lines, unless
    a message already has that SID; return ``(id, shop id)`` of the new row, ``None`` when
    the SID was kept before. One statement on PostgreSQL, its own transaction when the
    session has none open (``sending.alone``); two on SQLite; otherwise in the session's
    transaction, which the caller commits."""
    params = {
        "sid": sid,
        "phone": phone,
        "number": number,
        "body": body,
        "segments": segments,
        "at": at,
        "received_on": coded(Step.RECEIVED_ON, number),
    }
    if db.engine.dialect.name == "postgresql":
        found = first_row(_one_statement(), params)
        return (found[0], found[1]) if found is not None else None
    connection = db.session.connection()
    found = connection.execute(_keeping(sqlite.insert), params).first()
    if found is None:
        return None
    connection.execute(_noting(), {**params, "message_id": found[0]})
    return found[0], found[1]


def kept_before(sid: str) -> int | None:
    """Return the id of the message already kept with carrier SID ``sid``, if any."""
    return db.session.scalar(select(MESSAGES.c.id).where(MESSAGES.c.provider_sid == sid))


@cache
def _keeping(dialect_insert):
    """``INSERT … SELECT <routing> … ON CONFLICT (provider_sid) DO NOTHING RETURNING id,
    company_id`` (binds: sid, phone, number, body, segments, at)."""
    phone, number = _bind("phone", MESSAGES.c.phone), _bind("number", MESSAGES.c.sender_number)
    at = _bind("at", MESSAGES.c.created_at)
    shop = shop_of(phone, number)
    customer = (
        select(Customer.id)
        .where(Customer.company_id == shop, Customer.mobile_phone == phone)
        .order_by(Customer.id)
        .limit(1)
        .scalar_subquery()
    )
    queue = select(SenderNumber.queue).where(SenderNumber.number == number).scalar_subquery()
    # Every column of a new message: the request's values bound, the rest constants written
    # into the statement (the columns' own defaults for those a reply leaves as they are).
    row = {
        "company_id": shop,
        "customer_id": customer,
        "direction": _constant(Direction.INBOUND),
        "kind": _constant(Kind.INBOUND),
        "phone": phone,
        "body": _bind("body", MESSAGES.c.body),
        "queue": func.coalesce(queue, _constant(Queue.TRANSACTIONAL)),
        "status": _constant(Status.RECEIVED),
        "sender_number": number,
        "provider_sid": _bind("sid", MESSAGES.c.provider_sid),
        "segments": _bind("segments", MESSAGES.c.segments),
        "created_at": at,
        "updated_at": at,
    }
    for name in ("encoding", "price_per_segment", "price", "currency", "attempts"):
        row[name] = _constant(MESSAGES.c[name].default.arg)
    # WHERE true: SQLite's parser needs it to tell an upsert's ON from a join's.
    return (
        dialect_insert(MESSAGES)
        .from_select(list(row), select(*row.values()).where(true()), include_defaults=False)
        .on_conflict_do_nothing(index_elements=[MESSAGES.c.provider_sid])
        .returning(MESSAGES.c.id, MESSAGES.c.company_id)
    )


HISTORY_COLUMNS = ["message_id", "status", "at", "source", "detail"]


def _lines(message_id) -> list[list]:
    """A reply's two history lines, Receiving then Received on its number (binds: at,
    received_on)."""
    at, source = _bind("at", HISTORY.c.at), _constant(Source.PROVIDER_CALLBACK)
    return [
        [message_id, _constant(status), at, source, detail]
        for status, detail in (
            (Status.RECEIVING, null()),
            (Status.RECEIVED, _bind("received_on", HISTORY.c.detail)),
        )
    ]


@cache
def _noting():
    """SQLite: the ``INSERT`` of a reply's two history lines (binds: message_id and
    ``_lines``')."""
    rows = [
        dict(zip(HISTORY_COLUMNS, line, strict=True))
        for line in _lines(_bind("message_id", HISTORY.c.message_id))
    ]
    return insert(HISTORY).values(rows)


@cache
def _one_statement():
    """PostgreSQL: the reply, its routing and its history lines in one statement."""
    kept = _keeping(postgresql.insert).cte("kept")
    lines = union_all(*(select(*line) for line in _lines(kept.c.id)))
    noted = insert(HISTORY).from_select(HISTORY_COLUMNS, lines).cte("noted")
    return select(kept.c.id, kept.c.company_id).add_cte(noted)


def _bind(name: str, column):
    """A named bound parameter typed as ``column``."""
    return bindparam(name, type_=column.type)


def _constant(value):
    """A constant of the code (a status, a default: never the request's) written into the
    statement: no bound parameter to convert on each execution."""
    value = getattr(value, "value", value)
    if isinstance(value, str):
        return literal_column("'" + value.replace("'", "''") + "'")
    return literal_column(str(value))
