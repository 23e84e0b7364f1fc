"""One clock for every due time: Redis's.

Workers and web processes run on several machines whose clocks drift; a worker whose clock
runs two minutes fast sent scheduled messages up to 79 s early (issue 15, "A worker whose
clock runs 2 minutes fast"). Whether something is due is therefore judged by the clock of
the one Redis server every process shares (its ``TIME`` command), never by the local one.
Timestamps of records (a status change's time, ``updated_at``) keep the local clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis

from host.redis_connection import get_redis


def redis_time(client: redis.Redis) -> datetime:
    """Return the Redis server's current time (its ``TIME``), UTC, time-zone aware, to the
    microsecond.

    Raises ``redis.exceptions.ConnectionError`` when Redis cannot be reached."""
    seconds, microseconds = client.time()
    return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=int(microseconds))


def platform_now() -> datetime:
    """Return the platform's time: the current app's Redis server's ``TIME``, UTC, aware
    (like ``utcnow``), to the microsecond. Use it to judge whether something is due (a send
    time, a wait, a sweep threshold), never to stamp a record.

    Needs an app context; raises ``redis.exceptions.ConnectionError`` when Redis cannot be
    reached (issue 15, point 4: one clock for due times)."""
    return redis_time(get_redis())
