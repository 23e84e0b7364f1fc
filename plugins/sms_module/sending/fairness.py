"""Fair, prioritised sending (issue 14, point 1): on each sender number, the shops with
waiting messages take turns, so no shop's message waits behind another shop's backlog.

Each due message gets a *fair tag* when it becomes due: its virtual send time on the sender
number that will carry it, in seconds (self-clocked fair queuing, Golestani 1994, with the
number's rate as the unit: a message of ``s`` segments takes ``s / rate`` seconds). The
number's virtual time ``V`` is the turn it is serving: the smallest tag waiting on it (the
current time when nothing waits). A flow's next message starts where its waiting messages
end, or at V when it has none waiting::

    start = max(V[number], end[number, shop, class]);  end = start + segments / rate
    tag = end for bulk, (start + end) / 2 for an interactive message

Backlog runs send in tag order (``backlog.due_messages``). A shop that queued 5,000
messages on a number holds the tags V+1 … V+5,000 s; another shop's message queued a
moment later gets V+1 s, so it waits for at most one message of each other busy shop on
its number, never for the whole backlog.

Flows are per shop and class: ``INTERACTIVE`` (replies, keyword answers, host-event texts,
staff messages, disclaimers on the transactional queue) and ``BULK`` (campaigns and their
disclaimers, and what an outside program posts through the API). An interactive message
starts its own flow at V and is ranked at the middle of its slot, so within a shop it goes
before the shop's own bulk.

Messages of a new conversation have no number yet (the send picks it, ``pools``); they
share the pseudo-number 0 of their queue, whose clock runs at the pool's whole rate.

Everything is read from the rows: the tags (``sms_message.fair_tag``, NULL until due), V
and the flows' ends (one aggregate over the queue's tagged waiting messages, on a partial
index). Stamping is serialised per queue by a Redis lock, and only runs when a due message
has no tag; a message whose send time moves forward (held for the night) loses its tag and
is stamped again when due.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, case, func, select, update

from host.api import db, get_redis, platform_now
from plugins.sms_module.models import (
    Conversation,
    Kind,
    Queue,
    SenderNumber,
    SmsMessage,
    Status,
)
from plugins.sms_module.sending import forecast

INTERACTIVE = 0
BULK = 1
# Kinds sent in bulk: they wait behind the same shop's interactive messages.
BULK_KINDS = (Kind.CAMPAIGN, Kind.API)
# A message waiting to go: the statuses the fair order covers.
WAITING = (Status.QUEUED, Status.SCHEDULED)
# How many due messages one stamping reads and tags, at most, and at most how many of one
# shop: a campaign's 100,000 due messages are tagged a few hundred at a time, just ahead of
# their turns, so another shop's new message is tagged at the next stamping.
STAMP_PAGE = 2000
STAMP_PER_SHOP = 200
# How long one process may hold a queue's stamping lock (milliseconds).
STAMP_LOCK_MS = 10_000
# After a stamping that left due messages untagged, the next waits this long (ms).
STAMP_REST_MS = 500
# Pseudo-number of the messages whose conversation has no number yet.
NEW_CONVERSATION = 0


def flow_class(kind: str, queue: Queue) -> int:
    """Return a message's class: ``BULK`` for campaigns, API posts and everything on the
    promotional queue (a campaign's disclaimers travel with it), else ``INTERACTIVE``."""
    if kind in BULK_KINDS or queue == Queue.PROMOTIONAL:
        return BULK
    return INTERACTIVE


def stamp_due(queue: Queue | str) -> int:
    """Give a fair tag to the due messages of ``queue`` that have none, the oldest
    ``STAMP_PER_SHOP`` of each shop at most; return how many were tagged.

    A cheap look first (the partial index of untagged waiting messages), then, only when
    there is something to tag, the queue's lock; another process holding it is tagging
    them already (0 is returned). A stamping that had to leave some for later lets the
    next one wait ``STAMP_REST_MS``: a big backlog is tagged in steps, ahead of its turns,
    at a bounded cost."""
    queue = Queue(queue)
    redis = get_redis()
    rest, lock = f"sms:fair:rest:{queue.value}", f"sms:fair:stamping:{queue.value}"
    if redis.exists(rest) or not _any_untagged(queue):
        db.session.commit()
        return 0
    if not redis.set(lock, 1, nx=True, px=STAMP_LOCK_MS):
        db.session.commit()
        return 0
    try:
        rows = _untagged(queue, STAMP_PAGE, STAMP_PER_SHOP)
        stamped = _stamp(queue, rows, forecast.capacity(queue) or 1.0) if rows else 0
        per_shop: dict[int | None, int] = {}
        for row in rows:
            per_shop[row[1]] = per_shop.get(row[1], 0) + 1
        if len(rows) >= STAMP_PAGE or STAMP_PER_SHOP in per_shop.values():
            redis.set(rest, 1, px=STAMP_REST_MS)
        return stamped
    finally:
        db.session.commit()
        redis.delete(lock)


def _any_untagged(queue: Queue) -> bool:
    """Tell whether a due message of ``queue`` waits for its tag (one index probe)."""
    return (
        db.session.scalar(
            select(SmsMessage.id)
            .where(
                SmsMessage.queue == queue,
                SmsMessage.status.in_(WAITING),
                SmsMessage.fair_tag.is_(None),
                SmsMessage.send_at <= platform_now(),
            )
            .limit(1)
        )
        is not None
    )


def _untagged(queue: Queue, limit: int, per_shop: int) -> list[tuple]:
    """Due untagged messages of ``queue``, oldest first, ``per_shop`` of each shop at most:
    (id, shop, kind, segments, number id or None, the number's rate or None)."""
    rank = func.row_number().over(
        partition_by=SmsMessage.company_id, order_by=(SmsMessage.send_at, SmsMessage.id)
    )
    due = (
        select(
            SmsMessage.id,
            SmsMessage.company_id,
            SmsMessage.kind,
            SmsMessage.segments,
            SmsMessage.phone,
            SmsMessage.send_at,
            rank.label("rank"),
        )
        .where(
            SmsMessage.queue == queue,
            SmsMessage.status.in_(WAITING),
            SmsMessage.fair_tag.is_(None),
            SmsMessage.send_at <= platform_now(),
        )
        .subquery()
    )
    query = (
        select(
            due.c.id,
            due.c.company_id,
            due.c.kind,
            due.c.segments,
            SenderNumber.id,
            SenderNumber.rate,
        )
        .outerjoin(
            Conversation,
            (Conversation.company_id == due.c.company_id)
            & (Conversation.phone == due.c.phone)
            & (Conversation.queue == queue),
        )
        .outerjoin(SenderNumber, SenderNumber.id == Conversation.sender_number_id)
        .where(due.c.rank <= per_shop)
        .order_by(due.c.send_at, due.c.id)
        .limit(limit)
    )
    return [tuple(row) for row in db.session.execute(query)]


def _stamp(queue: Queue, rows: list[tuple], pool_rate: float) -> int:
    """Tag ``rows`` (from ``_untagged``) in order, after the flows' waiting messages."""
    heads, ends = _waiting_flows(queue)
    now = platform_now().timestamp()
    tags = []
    for message_id, shop, kind, segments, number_id, rate in rows:
        number = number_id or NEW_CONVERSATION
        cls = flow_class(kind, queue)
        flow = (number, shop, cls)
        start = max(heads.get(number, now), ends.get(flow, 0.0))
        unit = float(rate) if isinstance(rate, Decimal | float | int) and rate else pool_rate
        length = max(segments, 1) / unit
        ends[flow] = start + length
        heads.setdefault(number, start)
        # An interactive message is ranked at the middle of its slot, a bulk one at its end:
        # of two flows starting together, the interactive one goes first.
        tag = start + length / 2 if cls == INTERACTIVE else start + length
        tags.append({"b_id": message_id, "b_tag": tag})
    table = SmsMessage.__table__
    db.session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.fair_tag.is_(None))
        .values(fair_tag=bindparam("b_tag")),
        tags,
    )
    db.session.commit()
    return len(tags)


def _waiting_flows(queue: Queue) -> tuple[dict[int, float], dict[tuple, float]]:
    """Return, for ``queue``'s tagged waiting messages, each number's virtual time (the
    smallest tag waiting on it: the turn being served) and each flow's end (its largest
    tag), keyed by number id (``NEW_CONVERSATION`` for none) and (number, shop, class)."""
    bulk = SmsMessage.kind.in_(BULK_KINDS) | (SmsMessage.queue == Queue.PROMOTIONAL)
    cls = case((bulk, BULK), else_=INTERACTIVE)
    rows = db.session.execute(
        select(
            Conversation.sender_number_id,
            SmsMessage.company_id,
            cls,
            func.min(SmsMessage.fair_tag),
            func.max(SmsMessage.fair_tag),
        )
        .outerjoin(
            Conversation,
            (Conversation.company_id == SmsMessage.company_id)
            & (Conversation.phone == SmsMessage.phone)
            & (Conversation.queue == SmsMessage.queue),
        )
        .where(
            SmsMessage.queue == queue,
            SmsMessage.status.in_(WAITING),
            SmsMessage.fair_tag.is_not(None),
        )
        .group_by(Conversation.sender_number_id, SmsMessage.company_id, cls)
    )
    heads: dict[int, float] = {}
    ends: dict[tuple, float] = {}
    for number_id, shop, flow_cls, low, high in rows:
        number = number_id or NEW_CONVERSATION
        heads[number] = min(heads.get(number, low), low)
        ends[(number, shop, flow_cls)] = high
    return heads, ends
