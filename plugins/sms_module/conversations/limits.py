"""How often one phone may make the platform answer or forward (issue 13: no amplification).

A handset that texts HELP, STOP or START in a loop, or floods a shop with replies, must not
make the platform spend money on answers or fill a shop's inbox. The counters are in Redis
(the app's ``get_redis``), with expiry, so the limits hold across every web process and
worker. The replies themselves are always kept and shown on the reply page; only what goes
out is limited:

* keyword answers: one answer to HELP per phone every ``SMS_HELP_ANSWER_SECONDS`` (an
  hour), one STOP confirmation every ``SMS_STOP_ANSWER_SECONDS`` (a day), one answer to
  START every ``SMS_START_ANSWER_SECONDS`` (an hour). The opt-out or opt-in itself always
  happens (PRODUCT.md §5). Every change of the phone's opt-out state is confirmed (CTIA:
  each opt-out is confirmed once), whatever the windows say, and opens new STOP and START
  windows; only repeats of the same state within the window (a STOP while already opted
  out) go unanswered.
* forwards (``forwarding``): the first ``SMS_FORWARDS_PER_HOUR`` replies of a phone to a
  shop in an hour are forwarded one by one; the rest of that hour go in one digest at its
  end (``digest``).

Redis away: the answer goes (a missing STOP confirmation costs more than one extra SMS),
with a log line.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError

from host.api import get_queue, get_redis, platform_now
from plugins.sms_module.conversations import mail_jobs
from plugins.sms_module.models import SmsMessage

log = logging.getLogger(__name__)

WINDOW_SETTINGS = {
    "help": "SMS_HELP_ANSWER_SECONDS",
    "stop": "SMS_STOP_ANSWER_SECONDS",
    "start": "SMS_START_ANSWER_SECONDS",
}
FORWARD_WINDOW = 3600  # seconds: the hour of ``SMS_FORWARDS_PER_HOUR``


def may_answer(word: str, phone: str, changed: bool = False) -> bool:
    """Tell whether keyword ``word`` (``"help"``, ``"stop"``, ``"start"``) from ``phone``
    gets its answer now, counting it: the first in its window does, repeats do not. A window
    of 0 (or a word without one) answers every time. ``changed``: the word changed the
    phone's opt-out state (opted in then STOP, opted out then START): answered always (CTIA
    confirms each opt-out), the STOP and START windows start again from this answer."""
    setting = WINDOW_SETTINGS.get(word)
    seconds = int(current_app.config.get(setting) or 0) if setting else 0
    if seconds <= 0 and not changed:
        return True
    key = f"sms:limit:answer:{word}:{phone}"
    try:
        if changed:
            pipe = get_redis().pipeline()  # MULTI: the old windows end, this one opens
            pipe.delete(*(f"sms:limit:answer:{w}:{phone}" for w in ("stop", "start")))
            if seconds > 0:
                pipe.set(key, 1, ex=seconds)
            pipe.execute()
            return True
        first = get_redis().set(key, 1, nx=True, ex=seconds)
    except RedisError:
        log.warning("keyword limit not checked (Redis away): %s answered", word, exc_info=True)
        return True
    if not first:
        log.info("answer to %s not sent: already answered %s within %d s", word, phone, seconds)
    return bool(first)


def forward_turn(company_id: int | None, phone: str, message_id: int) -> tuple[bool, float]:
    """Count reply ``message_id`` among ``phone``'s replies to ``company_id`` (None: the
    operator) in the current hour; return whether it is forwarded on its own (one of the
    first ``SMS_FORWARDS_PER_HOUR``) and the seconds until the hour ends. Counting the same
    reply again (a retried forward) gives the same answer. ``SMS_FORWARDS_PER_HOUR`` 0: no
    limit. Raises ``RedisError`` when Redis is away (the forward job is retried)."""
    limit = int(current_app.config.get("SMS_FORWARDS_PER_HOUR") or 0)
    if limit <= 0:
        return True, 0.0
    key = f"sms:limit:forward:{company_id or 'operator'}:{phone}"
    pipe = get_redis().pipeline()  # MULTI: the hour opens, or goes on, with this reply in it
    pipe.set(f"{key}:hour", 1, nx=True, ex=FORWARD_WINDOW)
    pipe.pttl(f"{key}:hour")
    pipe.zadd(key, {str(message_id): time.time()}, nx=True)
    pipe.zrank(key, str(message_id))
    _, ttl_ms, _, rank = pipe.execute()
    ttl_ms = max(ttl_ms, 1)
    get_redis().pexpire(key, ttl_ms)  # the replies counted end with their hour
    return rank is not None and rank < limit, ttl_ms / 1000


# The RQ entry point (``plugins.sms_module.jobs``): jobs in Redis keep this path.
DIGEST_FUNCTION = "plugins.sms_module.jobs.forward_digest"
HELD_DAYS = 7  # how long held ids wait for a digest that could not run


def digest_key(company_id: int | None, phone: str) -> str:
    """Return the Redis list of the replies held for a digest."""
    return f"sms:forward-digest:{company_id or 'operator'}:{phone}"


def hold(message: SmsMessage, wait_seconds: float) -> None:
    """Hold reply ``message``'s forward for the digest due in ``wait_seconds`` (the end of
    the hour), enqueuing that digest once, on the mail queue (``mail_jobs``: retried like a
    forward). Raises ``RedisError`` when Redis is away."""
    redis = get_redis()
    key = digest_key(message.company_id, message.phone)
    pipe = redis.pipeline()
    pipe.rpush(key, message.id)
    pipe.expire(key, HELD_DAYS * 86400)
    pipe.execute()
    if redis.set(f"{key}:due", 1, nx=True, ex=int(wait_seconds) + 1):
        # Due by the platform's clock (Redis's), as every due time (issue 15, point 4).
        get_queue(mail_jobs.MAIL_QUEUE).enqueue_at(
            platform_now() + timedelta(seconds=wait_seconds),
            DIGEST_FUNCTION,
            message.company_id,
            message.phone,
            job_id=f"sms-forward-digest-{message.id}",
            job_timeout=mail_jobs.JOB_TIMEOUT,
            result_ttl=300,
            failure_ttl=7 * 24 * 3600,
            retry=mail_jobs.retry(),
            rate_limit=mail_jobs.rate_limit(),
        )


def held(company_id: int | None, phone: str) -> list[int]:
    """Return the ids of ``phone``'s replies to ``company_id`` waiting for their digest."""
    return [int(i) for i in get_redis().lrange(digest_key(company_id, phone), 0, -1)]
