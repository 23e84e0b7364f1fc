"""The ``time_machine`` fixture, moving the platform's clock with the process's.

Due times are judged by the platform's clock, Redis's ``TIME`` (``host.clock``), which
``time_machine`` cannot move. An in-process test is one machine: when it sets the clock
(a weekday morning, the night), the platform's clock follows it, as it would on a machine
whose Redis runs beside it. A test of a worker whose clock differs from Redis's travels
with ``time_machine.travel`` instead, and keeps Redis's real clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from host import clock


@pytest.fixture
def time_machine(time_machine, monkeypatch):
    """time_machine's own fixture; ``host.clock.platform_now`` reads the moved clock."""
    monkeypatch.setattr(clock, "redis_time", lambda client: datetime.now(UTC))
    return time_machine
