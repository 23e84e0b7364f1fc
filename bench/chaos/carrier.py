"""The carrier stub's memory: every create it took, the faults it injects, the delivery
reports it posts (served over HTTP by ``carrier_http``).

A create is recorded (To, From, Body, the StatusCallback URL and the stub's own clock)
BEFORE its fault is applied, except the fault ``500_before``, which refuses without keeping
anything: so a create answered 500 or timed out may still exist at the carrier, as at
Twilio. Faults are drawn per create from a mix (``set_mix``) or taken in order from a plan
aimed at bodies containing a marker (``plan``). Delivery reports are signed like Twilio's
(``RequestValidator.compute_signature`` with the auth token) and posted once, never retried,
as Twilio does not retry a status callback that failed: ``on`` posts "sent" then
"delivered", ``off`` posts nothing, ``hold`` keeps them until ``release``.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import requests
from twilio.request_validator import RequestValidator

FAULTS = ("500_after", "500_before", "timeout", "slow", "drop")
# When the carrier moves a recorded message on (seconds after its create), and reports it.
SENT_AFTER = 0.2
DELIVERED_AFTER = 1.0


@dataclass
class Create:
    """One create the stub recorded: what was asked, when (stub clock), which fault."""

    sid: str
    to: str
    from_: str
    body: str
    at: float
    callback: str | None
    message_id: int | None
    fault: str | None

    def status(self, now: float) -> str:
        """The carrier's own status of the message ``now`` (reports or not)."""
        age = now - self.at
        return "queued" if age < SENT_AFTER else "sent" if age < DELIVERED_AFTER else "delivered"


@dataclass
class Post:
    """One delivery report the stub posted: to whom, what, and how it was answered."""

    sid: str
    status: str
    at: float
    answer: str  # the HTTP status code, or the error's class name


@dataclass
class Settings:
    """What the stub does to each create; changed at runtime by the scenarios."""

    mix: dict[str, float] = field(default_factory=dict)
    plans: list[tuple[str, list[str]]] = field(default_factory=list)
    latency: float = 0.0  # added to every answer, seconds
    slow: tuple[float, float] = (3.0, 5.0)  # the fault ``slow``: seconds, under the SDK's 10 s
    hold: float = 12.0  # the fault ``timeout``: held longer than the SDK's timeout (10 s)
    reports: str = "on"  # on | off | hold


def message_id_of(callback: str | None) -> int | None:
    """Return our message id from a StatusCallback URL's ``?message_id=``."""
    if not callback:
        return None
    values = parse_qs(urlsplit(callback).query).get("message_id") or []
    return int(values[0]) if values and values[0].isdigit() else None


class CarrierState:
    """The stub's record and settings, shared by its HTTP threads (one lock)."""

    def __init__(self, account_sid: str, auth_token: str, seed: int = 15) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.settings = Settings()
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.creates: dict[str, Create] = {}  # by SID, in order
        self.refused: list[tuple[float, str, str, str]] = []  # 500_before: (at, to, from, body)
        self.posts: list[Post] = []
        self.unanswered = 0  # creates whose answer found the client gone
        self.held: list[tuple[str, str]] = []  # (sid, status) kept while reports are "hold"
        self.closing = threading.Event()
        self._reports: list[tuple[float, int, str, str]] = []  # heap: (due, seq, sid, status)
        self._seq = 0
        self._in_flight = 0
        self._wake = threading.Condition(self.lock)
        self._poster = threading.Thread(target=self._post_loop, daemon=True)
        self._poster.start()

    # Settings ----------------------------------------------------------------------------

    def set_mix(self, mix: dict[str, float] | None = None, seed: int | None = None) -> None:
        """Draw each create's fault from ``mix`` (fault → probability; empty: none)."""
        unknown = set(mix or {}) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {unknown}")
        with self.lock:
            self.settings.mix = dict(mix or {})
            if seed is not None:
                self.rng = random.Random(seed)

    def plan(self, marker: str, faults: list[str]) -> None:
        """Give the next creates whose body contains ``marker`` these faults, in order
        (``"none"`` for a create left alone)."""
        with self.lock:
            self.settings.plans.append((marker, list(faults)))

    def reports(self, mode: str) -> None:
        """Post delivery reports (``on``), never (``off``) or keep them (``hold``)."""
        if mode not in ("on", "off", "hold"):
            raise ValueError(mode)
        with self.lock:
            self.settings.reports = mode

    def release(self, count: int | None = None, spread: float = 0.0) -> int:
        """Post ``count`` held reports (all by default), spread over ``spread`` seconds from
        now; return how many."""
        with self._wake:
            taken, self.held = self.held[:count], self.held[count:] if count is not None else []
            now = time.time()
            for i, (sid, status) in enumerate(taken):
                self._schedule(now + spread * i / max(len(taken), 1), sid, status)
            self._wake.notify()
            return len(taken)

    def reset(self) -> None:
        """Back to no fault, reports on, no plan (the record is kept)."""
        with self.lock:
            self.settings = Settings()

    # Creates -----------------------------------------------------------------------------

    def draw(self, body: str) -> str | None:
        """Return the fault for a create of ``body``: a plan's next, else one of the mix."""
        with self.lock:
            for marker, faults in self.settings.plans:
                if marker in body and faults:
                    fault = faults.pop(0)
                    return None if fault == "none" else fault
            roll, total = self.rng.random(), 0.0
            for fault, chance in self.settings.mix.items():
                total += chance
                if roll < total:
                    return fault
        return None

    def record(self, to: str, from_: str, body: str, callback: str | None, fault: str | None):
        """Keep a create; schedule or hold its reports as the setting says; return it."""
        sid = "SM" + uuid.uuid4().hex
        create = Create(sid, to, from_, body, time.time(), callback, message_id_of(callback), fault)
        with self._wake:
            self.creates[sid] = create
            if callback and self.settings.reports == "on":
                self._schedule(create.at + SENT_AFTER, sid, "sent")
                self._schedule(create.at + DELIVERED_AFTER, sid, "delivered")
            elif callback and self.settings.reports == "hold":
                self.held += [(sid, "sent"), (sid, "delivered")]
            self._wake.notify()
        return create

    def refuse(self, to: str, from_: str, body: str) -> None:
        """Note a create refused before anything was kept (fault ``500_before``)."""
        with self.lock:
            self.refused.append((time.time(), to, from_, body))

    def note_unanswered(self) -> None:
        with self.lock:
            self.unanswered += 1

    def faults_since(self, start: float) -> Counter:
        """Count the faults applied to creates since ``start`` (``500_before`` included)."""
        with self.lock:
            found = Counter(c.fault for c in self.creates.values() if c.at >= start and c.fault)
            found["500_before"] += sum(1 for r in self.refused if r[0] >= start)
        return +found

    def find(self, to=None, from_=None, after=None, before=None, on=None) -> list[Create]:
        """Return the creates matching Twilio's list filters, newest first. ``after`` and
        ``before`` (epoch seconds) are inclusive and, like ``date_sent``, whole seconds; a
        message not sent yet (no ``date_sent``) matches no date filter; ``on`` is a date."""
        now = time.time()
        with self.lock:
            found = list(self.creates.values())
        chosen = []
        for c in found:
            if (to and c.to != to) or (from_ and c.from_ != from_):
                continue
            sent = int(c.at + SENT_AFTER) if now - c.at >= SENT_AFTER else None
            dated = after is not None or before is not None or on is not None
            if dated and sent is None:
                continue
            if (after is not None and sent < int(after)) or (before is not None and sent > before):
                continue
            if on is not None and time.strftime("%Y-%m-%d", time.gmtime(sent)) != on:
                continue
            chosen.append(c)
        return sorted(chosen, key=lambda c: c.at, reverse=True)

    def snapshot(self) -> list[Create]:
        """Return every create so far, oldest first."""
        with self.lock:
            return list(self.creates.values())

    def creates_per_message(self) -> Counter:
        """Count creates per our message id (from the StatusCallback URL)."""
        return Counter(c.message_id for c in self.snapshot() if c.message_id is not None)

    # Reports -----------------------------------------------------------------------------

    def _schedule(self, due: float, sid: str, status: str) -> None:
        self._seq += 1
        heapq.heappush(self._reports, (due, self._seq, sid, status))

    def _post_loop(self) -> None:
        while not self.closing.is_set():
            with self._wake:
                while not self.closing.is_set():
                    wait = self._reports[0][0] - time.time() if self._reports else 1.0
                    if self._reports and wait <= 0:
                        _due, _seq, sid, status = heapq.heappop(self._reports)
                        break
                    self._wake.wait(max(0.001, min(wait, 1.0)))
                else:
                    return
                self._in_flight += 1
            threading.Thread(target=self._post, args=(sid, status), daemon=True).start()

    def _post(self, sid: str, status: str) -> None:
        """Post one signed report, once; keep how it was answered."""
        create = self.creates[sid]
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": create.from_,
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": create.to,
        }
        signature = RequestValidator(self.auth_token).compute_signature(create.callback, params)
        try:
            answer = requests.post(
                create.callback,
                data=params,
                headers={"X-Twilio-Signature": signature},
                timeout=15,
            )
            result = str(answer.status_code)
        except requests.RequestException as error:
            result = type(error).__name__
        with self.lock:
            self.posts.append(Post(sid, status, time.time(), result))
            self._in_flight -= 1

    def idle(self) -> bool:
        """Tell whether no report is due or being posted (held ones aside)."""
        with self.lock:
            return not self._reports and not self._in_flight

    def close(self) -> None:
        self.closing.set()
        with self._wake:
            self._wake.notify_all()
