"""What the benchmarks read of the messages the workers send: how many are in each status,
when each reached a status, and whether every queue and message has settled.

Each read ends its transaction: PostgreSQL would otherwise keep its snapshot, and SQLite
busy with the workers' writes is asked again next time rather than waited on.
"""

from __future__ import annotations

from datetime import datetime

import redis
from rq import Queue
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from host.extensions import db
from plugins.sms_module.models import SmsMessage, SmsStatusChange
from plugins.sms_module.models.statuses import Status


def status_counts(ids: list[int]) -> dict[Status, int]:
    """Return how many of the messages ``ids`` are in each status."""
    db.session.expire_all()
    counts: dict[Status, int] = {}
    try:
        rows = db.session.scalars(select(SmsMessage.status).where(SmsMessage.id.in_(ids))).all()
    except OperationalError:  # SQLite busy with the workers' writes: ask again next time
        db.session.rollback()
        return {}
    for status in rows:
        counts[status] = counts.get(status, 0) + 1
    db.session.commit()  # end the read transaction: PostgreSQL would keep its snapshot
    return counts


def unsent(ids: list[int]) -> int | None:
    """Return how many of the messages ``ids`` are not Sent yet (None: SQLite was busy)."""
    try:
        count = db.session.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(SmsMessage.id.in_(ids), SmsMessage.status != Status.SENT)
        )
    except OperationalError:
        db.session.rollback()
        return None
    db.session.commit()  # end the read transaction: PostgreSQL would keep its snapshot
    return count


def settled(connection: redis.Redis) -> bool:
    """Say whether every queue is idle and every message in the database is Sent.

    Saving a customer queues an event job that may write a welcome SMS (and its disclaimer):
    a timed run starts only once all of that has gone.
    """
    for name in ("transactional", "promotional"):
        queue = Queue(name, connection=connection)
        busy = StartedJobRegistry(queue=queue).count + ScheduledJobRegistry(queue=queue).count
        if queue.count or busy:
            return False
    try:
        ids = list(db.session.scalars(select(SmsMessage.id)))
    except OperationalError:  # SQLite busy with the workers' writes
        db.session.rollback()
        return False
    return status_counts(ids) == {Status.SENT: len(ids)}


def history_times(ids: list[int], status: Status) -> dict[int, datetime]:
    """Return when each message first reached ``status``, by message id."""
    rows = db.session.execute(
        select(SmsStatusChange.message_id, SmsStatusChange.at)
        .where(SmsStatusChange.message_id.in_(ids), SmsStatusChange.status == status)
        .order_by(SmsStatusChange.at.desc())
    )
    return {message_id: at for message_id, at in rows}
