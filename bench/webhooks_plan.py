"""The webhook benchmark's world and its audit (``bench/webhooks.py``): the seeded messages,
the signed callbacks and replies posted to them, and what the database must hold after.

Seeded: two shops sharing the transactional pool, ``PHONES`` customers, each with
``EARLIER`` older Delivered messages from its sticky number (what a reply's routing must
not read one by one) and its conversation row, then the Sent messages the status callbacks
are about. Callbacks come in Twilio's shapes, per message a sequence drawn from
``SEQUENCES`` (a repeated "sent", a "queued", a failure with its error code, a retried
final report), shuffled: out of order, and sent side by side so that two reports of one
message are often in flight at once. Replies come from the customers to their sticky
number (a few from unknown phones, for the operator), a few retried by the carrier with
the same MessageSid right behind the first.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, insert, select, text

from bench.webhooks_load import signed_request
from host.api import utcnow
from host.extensions import db
from plugins.sms_module.models import Conversation, SenderNumber, SmsMessage, SmsStatusChange
from plugins.sms_module.models.statuses import RANK, Status

PHONES = 400
EARLIER = 6
ACCOUNT = "AC" + "0" * 32
# (weight, Twilio statuses posted for one message, before shuffling).
SEQUENCES = [
    (55, ["sent", "delivered"]),
    (15, ["queued", "sent", "delivered"]),
    (10, ["sent", "undelivered"]),
    (5, ["failed", "sent"]),
    (15, ["sent", "delivered", "delivered"]),
]
ERROR_CODES = {"undelivered": "30003", "failed": "30008"}
FINAL = {"delivered": Status.DELIVERED, "undelivered": Status.UNDELIVERED, "failed": Status.FAILED}
REPLIES = ["Thanks, see you tomorrow", "Is it ready?", "Merci, à demain", "Can we move it to 3pm?"]


@dataclass
class Plan:
    """The requests of one run and what each should leave in the database."""

    callbacks: list[bytes] = field(default_factory=list)
    replies: list[bytes] = field(default_factory=list)
    final: dict[int, Status] = field(default_factory=dict)  # message id → its final status
    routed: dict[str, int | None] = field(default_factory=dict)  # reply SID → its shop


@dataclass
class World:
    """The seeded customers: phone → (shop, sticky number)."""

    phones: dict[str, tuple[int, str]]


def seed(bench, callbacks: int) -> tuple[World, list[tuple[int, str, str, str]]]:
    """Fill the database (see the module docstring); return the world and the Sent
    messages the callbacks are about (id, SID, phone, number), enough for ``callbacks``."""
    numbers = db.session.execute(
        select(SenderNumber.id, SenderNumber.number).where(SenderNumber.queue == "transactional")
    ).all()
    all_phones = [f"+1514{5550000 + i:07d}" for i in range(PHONES)]
    shops = [bench.shop_with_customers(all_phones[k::2])[0] for k in range(2)]
    now = utcnow()
    phones = {p: (shops[i % 2], numbers[i % len(numbers)]) for i, p in enumerate(all_phones)}
    db.session.execute(
        insert(Conversation),
        [
            {
                "company_id": shop,
                "phone": phone,
                "queue": "transactional",
                "sender_number_id": number.id,
                "last_message_at": now,
            }
            for phone, (shop, number) in phones.items()
        ],
    )
    rows = []
    for k in range(EARLIER):
        for phone, (shop, number) in phones.items():
            rows.append(_row(shop, phone, number.number, Status.DELIVERED, now, k))
    count = callbacks // 2 + 50
    targets = list(phones.items())
    for k in range(count):
        phone, (shop, number) = targets[k % len(targets)]
        rows.append(_row(shop, phone, number.number, Status.SENT, now, EARLIER + k))
    db.session.execute(insert(SmsMessage), rows)
    sent = db.session.execute(
        select(SmsMessage.id, SmsMessage.provider_sid, SmsMessage.phone, SmsMessage.sender_number)
        .where(SmsMessage.status == Status.SENT)
        .order_by(SmsMessage.id)
    ).all()
    db.session.execute(
        insert(SmsStatusChange),
        [{"message_id": m.id, "status": Status.SENT, "at": now, "source": "module"} for m in sent],
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # The planner's statistics, as autovacuum keeps them on a database in use: fresh
        # bulk-loaded tables have none, and every plan would be a guess.
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    world = World({p: (shop, number.number) for p, (shop, number) in phones.items()})
    return world, [tuple(m) for m in sent]


def _row(shop: int, phone: str, number: str, status: Status, now, k: int) -> dict:
    at = now - timedelta(minutes=10 * (EARLIER + 1 - k))
    return {
        "company_id": shop,
        "direction": "outbound",
        "kind": "manual",
        "phone": phone,
        "body": "Your car is ready",
        "queue": "transactional",
        "status": status,
        "sender_number": number,
        "provider_sid": "SM" + uuid.uuid4().hex,
        "segments": 1,
        "attempts": 1,
        "created_at": at,
        "updated_at": at,
    }


def plan(world: World, sent, token: str, callbacks: int, replies: int, seed_: int = 14) -> Plan:
    """Build ``callbacks`` signed status callbacks and ``replies`` signed inbound SMS."""
    rng = random.Random(seed_)
    result = Plan()
    weights = [w for w, _ in SEQUENCES]
    for message_id, sid, phone, number in sent:
        if len(result.callbacks) >= callbacks:
            break
        statuses = list(rng.choices([s for _, s in SEQUENCES], weights)[0])
        rng.shuffle(statuses)
        result.final[message_id] = next(FINAL[s] for s in statuses if s in FINAL)
        for status in statuses:
            params = {
                "AccountSid": ACCOUNT,
                "ApiVersion": "2010-04-01",
                "From": number,
                "To": phone,
                "MessageSid": sid,
                "SmsSid": sid,
                "MessageStatus": status,
                "SmsStatus": status,
            }
            if status in ERROR_CODES:
                params["ErrorCode"] = ERROR_CODES[status]
            path = f"/sms/twilio/status?message_id={message_id}"
            result.callbacks.append(signed_request(token, path, params))
    customers = list(world.phones.items())
    while len(result.replies) < replies:
        sid = "SM" + uuid.uuid4().hex
        if rng.random() < 0.05:
            phone, shop, number = f"+1438{rng.randrange(10**7):07d}", None, "+14386013562"
        else:
            phone, (shop, number) = rng.choice(customers)
        params = {
            "AccountSid": ACCOUNT,
            "ApiVersion": "2010-04-01",
            "Body": rng.choice(REPLIES),
            "From": phone,
            "To": number,
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "NumMedia": "0",
            "NumSegments": "1",
            "FromCountry": "CA",
            "ToCountry": "CA",
        }
        payload = signed_request(token, "/sms/twilio/inbound", params)
        result.routed[sid] = shop
        # The carrier retries about one in twenty, right behind the first delivery.
        result.replies.extend([payload, payload] if rng.random() < 0.05 else [payload])
    del result.replies[replies:]
    return result


def audit(result: Plan) -> dict[str, int]:
    """Count from the database what the run lost: a message not in its final status, a
    final status kept other than once, a reply not kept exactly once or routed elsewhere."""
    ids = list(result.final)
    query = select(SmsMessage.id, SmsMessage.status).where(SmsMessage.id.in_(ids))
    statuses = {m: status for m, status in db.session.execute(query)}
    steps = Counter()
    for message_id, status, count in db.session.execute(
        select(SmsStatusChange.message_id, SmsStatusChange.status, func.count())
        .where(SmsStatusChange.message_id.in_(ids))
        .group_by(SmsStatusChange.message_id, SmsStatusChange.status)
    ):
        steps[message_id, status] += count
    wrong_status = sum(statuses.get(m) != final for m, final in result.final.items())
    final_not_once = 0
    for m, final in result.final.items():
        finals = sum(steps[m, s] for s in Status if RANK[s] == RANK[final] and s != Status.CANCELED)
        final_not_once += not (steps[m, final] == 1 and finals == 1)
    sids = list(result.routed)
    kept = db.session.execute(
        select(SmsMessage.provider_sid, SmsMessage.company_id, func.count())
        .where(SmsMessage.provider_sid.in_(sids))
        .group_by(SmsMessage.provider_sid, SmsMessage.company_id)
    ).all()
    found = {sid: (shop, count) for sid, shop, count in kept}
    replies_lost = sum(sid not in found for sid in sids)
    replies_twice = sum(count != 1 for _shop, count in found.values()) + len(kept) - len(found)
    misrouted = sum(found[s][0] != shop for s, shop in result.routed.items() if s in found)
    db.session.commit()
    return {
        "messages not in their final status": wrong_status,
        "final status not stored exactly once": final_not_once,
        "replies lost": replies_lost,
        "replies stored twice": replies_twice,
        "replies misrouted": misrouted,
    }
