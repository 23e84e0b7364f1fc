"""The built-in carrier simulator (``SMS_PROVIDER=simulator``), for demos and load tests.

It answers sends like the carrier does: a SID per message, the messages kept (in
Redis) so they can be fetched and listed, every number's rate watched (a breach is
recorded), and a signed status report posted to our webhook a moment later.

Documented test numbers (the last four digits of the recipient decide):
    …0610  refused at once: error 21610, the recipient unsubscribed
    …0211  refused at once: error 21211, invalid 'To' number
    …0503  the carrier is unavailable (HTTP 503), every time
    …0408  the carrier takes the message but the answer times out
    …0666  accepted, then reported undelivered (error 30003)
    …0999  accepted, then reported failed (error 30008)
    …0777  accepted, reported delivered, then the customer answers "OK, thanks! See you
           then." (posted, signed, to our inbound webhook, as the carrier would)
    anything else: accepted, then reported delivered.

For demonstrations of crash recovery the simulator can be frozen: while the Redis key
``sms:simulator:freeze`` holds ``before`` or ``after``, each send waits (up to 30 s,
or until a value is pushed to ``sms:simulator:thaw``) before or after the carrier
records the message.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import requests
from flask import current_app
from sqlalchemy import select

from host.api import db, get_queue, get_redis
from plugins.sms_module.carriers.base import CarrierError, CarrierMessage
from plugins.sms_module.carriers.errors import (
    INVALID_TO,
    TWILIO_ERRORS,
    UNKNOWN_ERROR,
    UNREACHABLE,
    UNSUBSCRIBED,
)
from plugins.sms_module.carriers.webhooks import signature_for
from plugins.sms_module.models import Queue, SenderNumber
from plugins.sms_module.texts.segments import count_segments

log = logging.getLogger(__name__)

PREFIX = "sms:simulator"
FREEZE_KEY = f"{PREFIX}:freeze"
THAW_KEY = f"{PREFIX}:thaw"
BREACHES_KEY = f"{PREFIX}:breaches"
FINAL = {"0666": ("undelivered", UNREACHABLE), "0999": ("failed", UNKNOWN_ERROR)}
REPLYING = "0777"
REPLY_TEXT = "OK, thanks! See you then."
# The RQ entry point (``plugins.sms_module.jobs``) that posts a delivery report.
REPORT_FUNCTION = "plugins.sms_module.jobs.simulator_report"
LIST_PAGE_SIZE = 1000  # messages a page of ``list_sent`` holds, as Twilio's largest


class SimulatorCarrier:
    """A carrier kept in Redis, shared by every worker like the real one."""

    def __init__(self, redis, callback_delay: float | None, auth_token: str) -> None:
        self.redis = redis
        self.callback_delay = callback_delay
        self.auth_token = auth_token

    @classmethod
    def from_config(cls, config) -> SimulatorCarrier:
        return cls(
            get_redis(), config["SMS_SIMULATOR_CALLBACK_DELAY"], config["SMS_SIMULATOR_AUTH_TOKEN"]
        )

    def send(self, *, to: str, from_: str, body: str, status_callback: str) -> CarrierMessage:
        ending = to[-4:]
        if ending == "0610":
            raise CarrierError(
                "Attempt to send to unsubscribed recipient", code=UNSUBSCRIBED, status=400
            )
        if ending == "0211":
            raise CarrierError(TWILIO_ERRORS[INVALID_TO], code=INVALID_TO, status=400)
        if ending == "0503":
            raise CarrierError("Service unavailable", status=503, transient=True)
        # The clock and the "before" freeze point in one round trip; after a thaw, the clock
        # again. The record, the rate window's read and the "after" point in a second one.
        reading = self.redis.pipeline(transaction=False)
        reading.time()
        reading.get(FREEZE_KEY)
        (seconds, micros), frozen = reading.execute()
        if _frozen_at(frozen, "before"):
            self.redis.blpop([THAW_KEY], timeout=30)
            seconds, micros = self.redis.time()
        now = seconds + micros / 1_000_000
        sid = "SM" + uuid.uuid4().hex
        segments = count_segments(body).segments or 1
        log_key = f"{PREFIX}:log:{from_}"
        pipe = self.redis.pipeline()
        pipe.hset(
            f"{PREFIX}:msg:{sid}",
            mapping={
                "to": to,
                "from": from_,
                "body": body,
                "status": "queued",
                "created": now,
                "segments": segments,
                "callback": status_callback,
            },
        )
        pipe.zadd(f"{PREFIX}:sent:{from_}:{to}", {sid: now})
        pipe.zadd(f"{PREFIX}:all", {sid: now})
        pipe.zadd(log_key, {f"{sid}:{segments}": now})
        pipe.zremrangebyscore(log_key, "-inf", now - 5)
        pipe.zrangebyscore(log_key, now - 1, "+inf")
        pipe.get(FREEZE_KEY)
        *_, recent, frozen = pipe.execute()
        self._watch_rate(from_, recent)
        if _frozen_at(frozen, "after"):
            self.redis.blpop([THAW_KEY], timeout=30)
        if ending == "0408":
            raise CarrierError("Read timed out", transient=True)
        if self.callback_delay is not None:
            get_queue(Queue.TRANSACTIONAL).enqueue_in(
                _seconds(self.callback_delay), REPORT_FUNCTION, sid, result_ttl=60
            )
        created = datetime.fromtimestamp(now, UTC)
        return CarrierMessage(
            sid=sid,
            status="queued",
            to=to,
            from_=from_,
            date_created=created,
            body=body,
            date_sent=created,
        )

    def fetch(self, sid: str) -> CarrierMessage | None:
        data = self.redis.hgetall(f"{PREFIX}:msg:{sid}")
        return _message(sid, data) if data else None

    def find(self, *, to: str, from_: str, created_after: datetime) -> list[CarrierMessage]:
        sids = self.redis.zrangebyscore(
            f"{PREFIX}:sent:{from_}:{to}", created_after.timestamp(), "+inf"
        )
        return [m for sid in sids if (m := self.fetch(sid.decode())) is not None]

    def list_sent(self, day: date) -> Iterator[list[CarrierMessage]]:
        """Yield the messages taken on the UTC ``day``, ``LIST_PAGE_SIZE`` a page."""
        start = datetime.combine(day, time.min, tzinfo=UTC).timestamp()
        end = start + 24 * 3600
        offset = 0
        while True:
            sids = self.redis.zrangebyscore(
                f"{PREFIX}:all", start, f"({end}", start=offset, num=LIST_PAGE_SIZE
            )
            if not sids:
                return
            yield [m for sid in sids if (m := self.fetch(sid.decode())) is not None]
            offset += len(sids)

    def sent_count(self) -> int:
        """Return how many messages the simulated carrier has taken."""
        return self.redis.zcard(f"{PREFIX}:all")

    def breaches(self) -> int:
        """Return how many sends broke their number's rate."""
        return int(self.redis.get(BREACHES_KEY) or 0)

    def _watch_rate(self, number: str, recent: list[bytes]) -> None:
        """Count a breach when the sends of the last second from ``number`` (``recent``:
        its log's members, ``<sid>:<segments>``) carry more segments than its rate."""
        used = sum(int(member.rsplit(b":", 1)[1]) for member in recent)
        rate = db.session.scalar(select(SenderNumber.rate).where(SenderNumber.number == number))
        # A lone message longer than the rate is no breach: it takes a window of its own.
        if rate is not None and used > rate and len(recent) > 1:
            self.redis.incr(BREACHES_KEY)
            self.redis.incr(f"{BREACHES_KEY}:{number}")
            log.warning(
                "rate breach on %s: %s segments within a second (rate %s)", number, used, rate
            )


def _frozen_at(frozen: bytes | None, point: str) -> bool:
    """Tell whether the freeze key's value (``frozen``) stops a send at ``point`` ("before"
    or "after" the carrier keeps it) until the thaw key is pushed: the tests' frozen worker."""
    return (frozen or b"").decode() == point


def _seconds(delay: float):
    return timedelta(seconds=delay)


def _message(sid: str, data: dict) -> CarrierMessage:
    text = {k.decode(): v.decode() for k, v in data.items()}
    code = text.get("error_code")
    created = datetime.fromtimestamp(float(text["created"]), UTC)
    return CarrierMessage(
        sid=sid,
        status=text["status"],
        to=text["to"],
        from_=text["from"],
        error_code=int(code) if code else None,
        date_created=created,
        body=text.get("body"),
        date_sent=created,
    )


def report(sid: str) -> str:
    """Job: post the message's delivery report to our webhook, signed like the carrier."""
    redis = get_redis()
    data = redis.hgetall(f"{PREFIX}:msg:{sid}")
    if not data:
        return "unknown message"
    to = data[b"to"].decode()
    final, code = FINAL.get(to[-4:], ("delivered", None))
    redis.hset(f"{PREFIX}:msg:{sid}", mapping={"status": final, "error_code": code or ""})
    url = data[b"callback"].decode()
    token = current_app.config["SMS_SIMULATOR_AUTH_TOKEN"]
    for status in ("sent", final):
        params = {
            "MessageSid": sid,
            "MessageStatus": status,
            "To": to,
            "From": data[b"from"].decode(),
            "AccountSid": "ACsimulator",
        }
        if status == final and code:
            params["ErrorCode"] = str(code)
        _post_signed(token, url, params)
    if to.endswith(REPLYING) and final == "delivered":
        # The customer answers, to our inbound webhook beside the status one.
        inbound = url.split("/sms/twilio/status", 1)[0] + "/sms/twilio/inbound"
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "ACsimulator",
            "From": to,
            "To": data[b"from"].decode(),
            "Body": REPLY_TEXT,
        }
        _post_signed(token, inbound, params)
    return final


def _post_signed(token: str, url: str, params: dict[str, str]) -> None:
    """Post ``params`` to ``url`` signed like the carrier's requests (X-Twilio-Signature)."""
    response = requests.post(
        url,
        data=params,
        timeout=10,
        headers={"X-Twilio-Signature": signature_for(token, url, params)},
    )
    response.raise_for_status()
