"""One seeded message's row and its status history (PRODUCT.md §6), as the send path
would have left them: Scheduled (due) → Sending (sender) → Sent (carrier SID) → the
carrier's report, or a refusal, a withdrawal, a carrier's error code (``carriers.errors``).

The Accepted and Queued steps are left out: about four history rows per message."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

MESSAGE_COLUMNS = (
    "id", "company_id", "customer_id", "direction", "kind", "phone", "body", "queue", "status",
    "failure_code", "failure_reason", "sender_number", "provider_sid", "segments", "encoding",
    "price_per_segment", "price", "currency", "send_at", "attempts", "attempt_started_at",
    "created_at", "updated_at", "read_at", "forwarded_at", "campaign_id",
)  # fmt: skip
CHANGE_COLUMNS = ("id", "message_id", "status", "at", "source", "detail")
SOURCES = {
    "manual": "staff", "reply": "staff", "api": "api", "campaign": "campaign",
    "disclaimer": "module", "keyword_answer": "module",
}  # fmt: skip
CANCEL_HOURS = 40  # a Canceled message is canceled within this many hours of its creation
_SID_FACTOR = 0x9E3779B97F4A7C15F39CC0605CEDC835  # odd: id → SID is a bijection


def sid(message_id: int) -> str:
    """Return a Twilio-like message SID, distinct for every message id."""
    return f"SM{(message_id * _SID_FACTOR) % 2**128:032x}"


class Steps:
    """Builds message tuples (``MESSAGE_COLUMNS``) and history tuples (``CHANGE_COLUMNS``)."""

    def __init__(self, first_id: int, first_change: int, rng: random.Random, end: datetime):
        self.next_id, self.next_change = first_id, first_change
        self.rng, self.end = rng, end
        self.messages: list[tuple] = []
        self.changes: list[tuple] = []

    def _change(self, message_id: int, status: str, at: datetime, source: str, detail) -> None:
        self.changes.append((self.next_change, message_id, status, at, source, detail))
        self.next_change += 1

    def outbound(self, m: dict, fate: str, at: datetime) -> int:
        """Add an outbound message meeting ``fate`` (``plan.FATES``; ``m``: its company,
        customer, kind, phone, body, queue, sender, segments, encoding, pps, price, currency,
        campaign, code), due ``at``; return its id."""
        rng, mid = self.rng, self.next_id
        self.next_id += 1
        source = SOURCES.get(m["kind"], "event")
        status, code, provider_sid, attempts = fate, None, None, 1
        sending = at + timedelta(seconds=0.2 + rng.expovariate(1 / 1.5))
        sent = sending + timedelta(seconds=0.15 + rng.random())
        send_at, updated, started, sender = at, sent, sending, m["sender"]
        if fate == "refused":
            status, code, attempts, sender, started, updated = (
                "failed",
                m["code"],
                0,
                None,
                None,
                at,
            )
            self._change(mid, "failed", at, source, f"refused: {code}")
        elif fate in ("canceled", "scheduled"):
            attempts, sender, started = 0, None, None
            send_at = at + timedelta(hours=rng.uniform(2, 72))
            if fate == "scheduled":
                at = self.end - timedelta(hours=rng.uniform(0, 48))
                send_at = self.end + timedelta(hours=rng.uniform(1, 168))
            self._change(mid, "scheduled", at, source, f"due: {send_at.isoformat()}")
            updated = at
            if fate == "canceled":
                updated = min(at + timedelta(hours=rng.uniform(0.5, CANCEL_HOURS)), self.end)
                updated = m.get("canceled_at") or updated  # the consent withdrawn then
                withdrawal = m["withdrawal"]
                by = "staff" if withdrawal.startswith("canceled_by_staff") else "module"
                self._change(mid, "canceled", updated, by, withdrawal)
        else:
            self._change(mid, "scheduled", at, source, f"due: {at.isoformat()}")
            self._change(mid, "sending", sending, "module", f"sender: {sender}")
            if fate == "failed":
                code, updated = m["code"], sent
                self._change(mid, "failed", sent, "module", code)
            else:
                provider_sid = sid(mid)
                self._change(mid, "sent", sent, "module", f"carrier_accepted: {provider_sid}")
                if fate in ("delivered", "undelivered"):
                    delay = 1 + rng.expovariate(1 / 6)
                    if rng.random() < 0.01:
                        delay += rng.uniform(60, 7200)  # a handset off for a while
                    updated = min(sent + timedelta(seconds=delay), self.end)
                    self._change(mid, fate, updated, "provider_callback", f"carrier_status: {fate}")
                    if fate == "undelivered":
                        code = m["code"]
        self.messages.append(
            (mid, m["company"], m["customer"], "outbound", m["kind"], m["phone"], m["body"],
             m["queue"], status, code, code, sender, provider_sid, m["segments"], m["encoding"],
             m["pps"], m["price"], m["currency"], send_at, attempts, started, at, updated, None,
             None, m.get("campaign"))
        )  # fmt: skip
        return mid

    def inbound(self, m: dict, at: datetime, read: bool) -> int:
        """Add a customer's SMS to our number ``m["sender"]``, Received and forwarded."""
        mid = self.next_id
        self.next_id += 1
        number = m["sender"]
        self._change(mid, "receiving", at, "provider_callback", None)
        self._change(mid, "received", at, "provider_callback", f"received_on: {number}")
        read_at = min(at + timedelta(minutes=self.rng.uniform(1, 600)), self.end) if read else None
        forwarded = at + timedelta(seconds=self.rng.uniform(1, 5))
        self.messages.append(
            (mid, m["company"], m["customer"], "inbound", "inbound", m["phone"], m["body"],
             "transactional", "received", None, None, number, sid(mid), m["segments"],
             m["encoding"], 0, 0, m["currency"], None, 0, None, at, at, read_at, forwarded, None)
        )  # fmt: skip
        return mid

    def take(self) -> tuple[list[tuple], list[tuple]]:
        """Return the rows built since the last call, and forget them."""
        messages, changes = self.messages, self.changes
        self.messages, self.changes = [], []
        return messages, changes
