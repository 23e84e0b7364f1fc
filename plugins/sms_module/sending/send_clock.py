"""The clock of one send: the platform's time read once, then moved on locally."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from host.api import platform_now


class SendClock:
    """The platform's clock (``platform_now``, Redis's ``TIME``) read once per send, then
    moved on by this process's monotonic clock: no round trip to Redis for each reading.
    ``now`` is never ahead of Redis's clock (a due time judged by it is never early, issue
    15), ``later`` never behind it (an attempt's start, from which ``in_flight_until``
    counts); they differ by one round trip at most."""

    def __init__(self) -> None:
        self._read: tuple[datetime, float, float] | None = None

    def _anchor(self) -> tuple[datetime, float, float]:
        if self._read is None:
            before = time.monotonic()
            at = platform_now()
            self._read = (at, before, time.monotonic())
        return self._read

    def now(self) -> datetime:
        """Return the platform's time, never ahead of it (UTC, aware)."""
        at, _before, after = self._anchor()
        return at + timedelta(seconds=time.monotonic() - after)

    def later(self) -> datetime:
        """Return the platform's time, never behind it (UTC, aware)."""
        at, before, _after = self._anchor()
        return at + timedelta(seconds=time.monotonic() - before)
