"""The chaos suite (issue 15, point 6): each fault of the issue against the real product —
gunicorn and three ``crmhost worker`` processes on a PostgreSQL and a Redis of the suite's
own, in Twilio mode against a carrier stub that records every create before its fault —
ending with an audit per scenario and a Markdown table.

    scripts/chaos [--short] [--report PATH] [--only NAME ...]

Modules: ``services`` (PostgreSQL, Redis), ``carrier`` and ``carrier_http`` (the Twilio
stub), ``smtp`` (a hanging and a normal SMTP server), ``world`` (the processes, supervised),
``product`` (the API, bookings, replies; reads), ``context`` (steps shared by the
scenarios), ``scenarios_*`` (the faults), ``audit`` and ``table`` (the verdict).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    """A fault to run: its name, its function, customers it needs (short run, full run)."""

    name: str
    run: Callable
    customers: tuple[int, int]


def scenarios() -> list[Scenario]:
    """Return every scenario, in the order they run (imported only when asked for)."""
    from bench.chaos import scenarios_carrier as carrier
    from bench.chaos import scenarios_mail as mail
    from bench.chaos import scenarios_redis as redis
    from bench.chaos import scenarios_time as clock

    # The runs that leave Sent messages without reports (carrier faults, kill -9) come after
    # reports_lost_pg: the product's status fetch takes the oldest first, a batch a minute.
    return [
        Scenario("redis_restart", redis.redis_restart, (10, 30)),
        Scenario("redis_lost_events", redis.redis_lost_events, (15, 30)),
        Scenario("api_redis_down", redis.api_redis_down, (8, 20)),
        Scenario("reports_lost_pg", clock.reports_lost_pg, (10, 30)),
        Scenario("scheduler_lock_kill", clock.scheduler_lock_kill, (10, 20)),
        Scenario("fast_clock", clock.fast_clock, (10, 30)),
        Scenario("carrier_faults_no_reports", carrier.carrier_faults_no_reports, (12, 30)),
        Scenario("kill9_no_reports", carrier.kill9_no_reports, (12, 30)),
        Scenario("smtp_hang", mail.smtp_hang, (12, 20)),
    ]
