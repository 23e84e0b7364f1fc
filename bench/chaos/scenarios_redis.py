"""Redis faults (issue 15: "A 1-second Redis restart stops every worker for good", "Host-event
texts are lost with Redis", "The API answers 500 for a message it already committed")."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

from bench.chaos.audit import Result
from bench.chaos.context import ACCEPTED, Context
from bench.chaos.product import future


def redis_restart(ctx: Context, customers: list) -> Result:
    """Redis down ~1 s mid-run (killed, started again empty): every worker keeps running
    and every message is sent — those due at once and those scheduled seconds ahead, whose
    jobs the restart wiped."""
    scope = ctx.begin("redis_restart", customers)
    count = ctx.n(40, 150)
    jobs = []
    for i in range(count):
        customer_id = customers[i % len(customers)][0]
        later = None if i % 2 == 0 else future(ctx.rng.uniform(3, ctx.n(8, 25)))
        jobs.append((customer_id, f"redis_restart {i}: your car is ready", later))
    ctx.accept(scope, ctx.post_all(jobs))
    time.sleep(1.0)  # mid-run: the immediate ones are going, the scheduled ones wait
    ctx.say("  Redis killed, down 1 s, back empty")
    ctx.world.redis_server.restart(1.0)
    ctx.drain(scope, ctx.n(60, 120))
    return ctx.finish(scope)


def redis_lost_events(ctx: Context, customers: list) -> Result:
    """Bookings committed while Redis restarts empty: every booking's confirmation is
    written once and sent once."""
    scope = ctx.begin("redis_lost_events", customers)
    starts_at = (future(3 * 24 * 3600)).replace(minute=0, second=0, microsecond=0)
    restart_at = len(customers) // 3
    fault = None
    redis_away = 0
    for i, (customer_id, _phone) in enumerate(customers):
        if i == restart_at:
            ctx.say("  Redis killed while booking, down 1.5 s, back empty")
            fault = ctx.in_background(ctx.world.redis_server.restart, 1.5)
            time.sleep(0.05)  # let the kill land before the next commit
        scope.bookings.append(ctx.product.book(customer_id, starts_at + timedelta(minutes=i)))
        redis_away += ctx.world.redis_server.process is None
        time.sleep(ctx.n(0.1, 0.15))  # bookings at a shop's pace, across the restart
    if fault is not None:
        fault.join()
    scope.notes.append(f"{redis_away} bookings committed while Redis was down")
    scope.notes.append(f"{len(scope.bookings)} bookings committed")
    ctx.drain(scope, ctx.n(60, 120))
    return ctx.finish(scope)


def api_redis_down(ctx: Context, customers: list) -> Result:
    """API posts while Redis is down: each answered 201/202 (not 500) and sent once when
    Redis is back. A client that got no 2xx retries once afterwards, without an
    Idempotency-Key, as a naive client would: a 500 for a committed message is then sent
    twice."""
    scope = ctx.begin("api_redis_down", customers)
    down = ctx.n(4.0, 8.0)
    count = ctx.n(12, 30)
    ctx.say(f"  Redis killed, down {down:g} s, {count} API posts meanwhile")
    ctx.world.redis_server.stop()
    started = time.monotonic()
    jobs = [
        (customers[i % len(customers)][0], f"api_redis_down {i}: see you at 9")
        for i in range(count)
    ]
    answers = ctx.post_all(jobs, workers=4)
    if time.monotonic() - started > down:
        scope.notes.append("the posts outlasted the Redis outage")
    time.sleep(max(0.0, down - (time.monotonic() - started)))  # the outage's own length
    ctx.world.redis_server.start()
    codes = sorted(a.status for a in answers)
    scope.notes.append(f"answers while Redis was down: {dict(Counter(codes))}")
    refused = [a for a in answers if a.status not in ACCEPTED]
    if refused:
        codes = sorted({a.status for a in refused})
        scope.failures.append(
            f"{len(refused)} of {count} posts answered {codes} while Redis "
            "was down (a client retries them)"
        )
    ctx.accept(scope, [a for a in answers if a.status in ACCEPTED])
    retried = ctx.post_all(
        [
            (customers[i % len(customers)][0], a.body)
            for i, a in enumerate(answers)
            if a.status not in ACCEPTED
        ]
    )
    ctx.accept(scope, retried)
    ctx.drain(scope, ctx.n(60, 120))
    return ctx.finish(scope)
