"""Helpers for the sending tests: the seeded pools, messages stored in a given status."""

from __future__ import annotations

from host.extensions import db
from host.models import utcnow
from plugins.sms_module.models import Queue, SmsMessage, SmsStatusChange
from plugins.sms_module.sending import pools

TRANSACTIONAL = [
    "+14386013562",
    "+14386013492",
    "+14386011668",
    "+14386011575",
    "+14386014488",
    "+14386013998",
]
PROMOTIONAL = ["+14386013549", "+14386013643"]
FIRST = "+14386013562"  # first transactional number
OPERATOR = "operator@example.com"


def add(shops, status, *, segments=1, queue=Queue.TRANSACTIONAL, due=None, steps=(), **fields):
    """Store a message in ``status`` with history ``steps`` [(status, at)]; return its id."""
    row = SmsMessage(
        company_id=shops["a"]["shop"],
        customer_id=shops["a"]["customer"],
        phone="+15145550101",
        body="x" * segments,
        queue=queue,
        status=status,
        segments=segments,
        send_at=due or utcnow(),
        **fields,
    )
    row.history = [SmsStatusChange(status=s, at=at, source="module") for s, at in steps]
    db.session.add(row)
    db.session.commit()
    return row.id


def numbers_of(queue):
    return [n.number for n in pools.pool(queue)]
