"""A carrier double for the reconciliation tests: it records every create before it injects
a fault (as Twilio may fail after taking a message), keeps its records as Twilio does (times
to the second), answers find, fetch and list_sent, and counts every call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date

import pytest

from host.models import utcnow
from plugins.sms_module.carriers.base import CarrierError, CarrierMessage
from plugins.sms_module.sending import send_job

# Faults a create may meet, in the order they are queued on ``CarrierDouble.faults``.
NOT_CREATED = "500, not created"
CREATED = "500, created"  # the carrier took it, then answered 500


class CarrierDouble:
    def __init__(self) -> None:
        self.records: dict[str, CarrierMessage] = {}
        # Each create takes the next fault: None, NOT_CREATED, CREATED, or a function called
        # with the record once it exists, before the create answers (a slow create).
        self.faults: list[str | Callable[[CarrierMessage], None] | None] = []
        self.calls: list[str] = []
        self.page_size = 2

    def send(self, *, to: str, from_: str, body: str, status_callback: str) -> CarrierMessage:
        self.calls.append("create")
        fault = self.faults.pop(0) if self.faults else None
        if fault == NOT_CREATED:
            raise CarrierError("Internal Server Error", status=500, transient=True)
        record = self.add(to=to, from_=from_, body=body)
        if fault == CREATED:
            raise CarrierError("Internal Server Error", status=500, transient=True)
        if callable(fault):
            fault(record)
        return record

    def add(self, *, to: str, from_: str, body: str, status: str = "queued") -> CarrierMessage:
        """Record a message as the carrier would (a create, or one sent by hand)."""
        now = utcnow().replace(microsecond=0)
        sid = f"SM{len(self.records) + 1:032x}"
        record = CarrierMessage(
            sid=sid, status=status, to=to, from_=from_, date_created=now, body=body, date_sent=now
        )
        self.records[sid] = record
        return record

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        self.records[sid] = replace(self.records[sid], status=status, error_code=error_code)

    def fetch(self, sid: str) -> CarrierMessage | None:
        self.calls.append("fetch")
        return self.records.get(sid)

    def find(self, *, to: str, from_: str, created_after) -> list[CarrierMessage]:
        self.calls.append("find")
        return [
            r
            for r in self.records.values()
            if r.to == to and r.from_ == from_ and r.date_created >= created_after
        ]

    def list_sent(self, day: date) -> Iterator[list[CarrierMessage]]:
        day_records = [r for r in self.records.values() if r.date_sent.date() == day]
        for start in range(0, max(len(day_records), 1), self.page_size):
            self.calls.append("list")
            yield day_records[start : start + self.page_size]

    def bodies(self) -> list[str]:
        return sorted(r.body for r in self.records.values())


def use_double(monkeypatch: pytest.MonkeyPatch) -> CarrierDouble:
    """Return a double that every send job of the test talks to (a test's fixture)."""
    made = CarrierDouble()
    monkeypatch.setattr(send_job, "carrier_for", lambda config: made)
    return made
