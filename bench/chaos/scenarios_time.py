"""Faults of time (issue 15: reports lost while PostgreSQL restarts or is read-only, a
killed worker holding the delayed-job lock, a worker whose clock runs 2 minutes fast)."""

from __future__ import annotations

import shutil
import time

from bench.chaos.audit import Result
from bench.chaos.context import Context
from bench.chaos.product import future

LATE_TOLERANCE = 5.0  # seconds a scheduled send or a retry may come after its due time
FETCH_PERIOD = 60  # seconds between two runs of the product's status fetch (sms-status-fetch)


def reports_lost_pg(ctx: Context, customers: list) -> Result:
    """Delivery reports posted while PostgreSQL restarts, then while it is read-only (each
    posted once, as Twilio does): every message still reaches its final status, fetched from
    the carrier later (``SMS_STATUS_FETCH_AFTER_HOURS``, small for the suite)."""
    scope = ctx.begin("reports_lost_pg", customers, need_final=True)
    state = ctx.world.carrier.state
    state.reports("hold")
    count = ctx.n(30, 150)
    jobs = [
        (customers[i % len(customers)][0], f"reports_lost_pg {i}: all done") for i in range(count)
    ]
    ctx.accept(scope, ctx.post_all(jobs))
    ctx.product.wait(
        lambda: all(m in {c.message_id for c in state.snapshot()} for m in scope.messages), 60
    )
    at_carrier = {c.message_id for c in state.snapshot()}
    scope.notes.append(
        f"{len(at_carrier & set(scope.messages))} of {count} at the carrier before the faults"
    )
    third = len(state.held) // 3
    posts_before = len(state.posts)
    ctx.say(f"  PostgreSQL restarting while {third} reports are posted")
    ctx.world.pg.stop()
    state.release(third, spread=1.0)
    time.sleep(2.0)  # the restart's own length: the reports land meanwhile
    ctx.world.pg.start()
    ctx.say(f"  PostgreSQL read-only while {third} more reports are posted")
    ctx.world.pg.read_only(True)
    state.release(third, spread=1.0)
    time.sleep(2.0)  # the read-only spell's length
    ctx.world.pg.read_only(False)
    state.release()
    state.reports("on")
    ctx.product.wait(lambda: len(state.posts) - posts_before >= 2 * count, 30)
    answers = [p.answer for p in state.posts[posts_before:]]
    lost = sum(1 for a in answers if not a.startswith("2"))
    scope.notes.append(f"reports posted {len(answers)}, not taken by the web {lost}")
    config = ctx.world.app.config
    fetch_after = float(config.get("SMS_STATUS_FETCH_AFTER_HOURS", 12)) * 3600
    # The product's status fetch runs every minute and asks for one batch a run (5 s of
    # SMS_CARRIER_API_PER_SECOND requests), the oldest Sent messages of the platform first.
    backlog = ctx.product.count_sent()
    batch = 5 * float(config.get("SMS_CARRIER_API_PER_SECOND", 10))
    runs = 2 + int(backlog // batch)
    scope.notes.append(f"Sent without a report on the platform: {backlog}; waiting {runs} runs")
    ctx.drain(scope, min(fetch_after, 600) + FETCH_PERIOD * runs + 30)
    return ctx.finish(scope)


def scheduler_lock_kill(ctx: Context, customers: list) -> Result:
    """kill -9 the worker holding the delayed-job release lock while messages are due
    seconds ahead and retries after a carrier error are pending: none late by more than
    ``LATE_TOLERANCE`` seconds."""
    scope = ctx.begin("scheduler_lock_kill", customers)
    state = ctx.world.carrier.state
    ctx.product.wait(lambda: ctx.lock_holder()[1] is not None, 20, every=0.2)
    key, holder = ctx.lock_holder()
    retries = ctx.n(6, 15)
    state.plan("RETRY-ME", ["500_before"] * retries)
    jobs = [
        (customers[i % len(customers)][0], f"RETRY-ME {i}: your part arrived")
        for i in range(retries)
    ]
    count = ctx.n(20, 60)
    jobs += [
        (
            customers[i % len(customers)][0],
            f"scheduler_lock {i}: see you tomorrow",
            future(ctx.rng.uniform(5, ctx.n(15, 30))),
        )
        for i in range(count)
    ]
    ctx.accept(scope, ctx.post_all(jobs))
    if holder is None:
        scope.failures.append("no worker found holding the release lock (nothing killed)")
    else:
        ctx.say(f"  killing {holder.name}, holder of {key}")
        scope.notes.append(f"killed the holder of {key}")
        ctx.world.kill(holder)
    killed_at = time.time()
    ctx.drain(scope, ctx.n(60, 120))
    base = float(ctx.world.app.config["SMS_RETRY_BASE_SECONDS"])
    rows = {r.id: r for r in ctx.product.rows(scope.phones, scope.since_id)}
    creates = state.snapshot()
    refusals = {body: at for at, _to, _from, body in state.refused if at >= scope.start}
    late = []
    for message_id in scope.messages:
        row, own = rows.get(message_id), [c for c in creates if c.message_id == message_id]
        if row is None:
            continue
        due = row.send_at.timestamp() if row.send_at else None
        if row.body in refusals:
            due = refusals[row.body] + base
        sent = min((c.at for c in own), default=time.time())
        if due is not None and sent - due > LATE_TOLERANCE:
            late.append((sent - due, message_id, "retry" if row.body in refusals else "scheduled"))
    lease = float(ctx.world.app.config["SMS_SEND_LEASE_SECONDS"])
    held = [m for _s, m, _k in late if _held_by_the_dead(ctx, m, killed_at, lease)]
    if held:
        scope.notes.append(
            f"{len(held)} late ones were in the killed worker's hands (Sending): they waited "
            f"for the send lease ({lease:g} s), as for any worker killed mid-send: not judged"
        )
        late = [entry for entry in late if entry[1] not in held]
    if late:
        worst = max(late)
        scope.failures.append(
            f"{len(late)} late by more than {LATE_TOLERANCE:g} s (at most {worst[0]:.0f} s)"
        )
        shown = [
            (m, kind, f"{s:.0f} s late", f"{_status_at(ctx, m, killed_at)} at the kill")
            for s, m, kind in sorted(late, reverse=True)[:8]
        ]
        scope.notes.append(f"late, worst first: {shown}")
        steps = [
            (round(at.timestamp() - scope.start, 1), str(status), source, detail)
            for at, status, source, detail in ctx.product.history(worst[1])
        ]
        scope.notes.append(f"history of {worst[1]} (s after start): {steps}")
    return ctx.finish(scope)


def _status_at(ctx: Context, message_id: int, moment: float) -> str:
    """Return the message's status at ``moment`` (epoch seconds), from its history."""
    steps = [(at.timestamp(), str(st)) for at, st, *_ in ctx.product.history(message_id)]
    before = [status for at, status in steps if at <= moment]
    return before[-1] if before else "not yet accepted"


def _held_by_the_dead(ctx: Context, message_id: int, killed_at: float, lease: float) -> bool:
    """Tell whether the message was Sending when its worker was killed and nothing moved it
    until its send lease ran out (what the lease is for, not the release lock)."""
    steps = [(at.timestamp(), str(status)) for at, status, *_ in ctx.product.history(message_id)]
    before = [status for at, status in steps if at <= killed_at]
    after = [at for at, _status in steps if at > killed_at]
    return (
        bool(before)
        and before[-1] == "sending"
        and (not after or after[0] >= killed_at + 0.8 * lease)
    )


def fast_clock(ctx: Context, customers: list) -> Result:
    """A worker whose clock runs 2 minutes fast (libfaketime), started first so that it
    holds the release lock: no scheduled message leaves before its ``send_at`` (by the
    stub's clock)."""
    if shutil.which("faketime") is None:
        return Result("fast_clock", skipped="faketime missing")
    scope = ctx.begin("fast_clock", customers)
    world = ctx.world
    world.retire(*world.live())
    fast = world.add_worker(("faketime", "-f", "+120s"))
    ctx.product.wait(lambda: ctx.lock_holder()[1] is fast, 30, every=0.2)
    key, holder = ctx.lock_holder()
    scope.notes.append(
        f"the fast worker {'holds' if holder is fast else 'does NOT hold'} "
        f"{key or 'the release lock'}"
    )
    world.ensure_workers(3)
    count = ctx.n(20, 120)
    horizon = ctx.n(12, 40)
    jobs = [
        (
            customers[i % len(customers)][0],
            f"fast_clock {i}: reminder",
            future(ctx.rng.uniform(5, horizon)),
        )
        for i in range(count)
    ]
    ctx.accept(scope, ctx.post_all(jobs))
    ctx.drain(scope, horizon + ctx.n(45, 90))
    rows = {r.id: r for r in ctx.product.rows(scope.phones, scope.since_id)}
    early = [
        row.send_at.timestamp() - c.at
        for c in world.carrier.state.snapshot()
        if (row := rows.get(c.message_id)) is not None
        and row.send_at is not None
        and c.at < row.send_at.timestamp()
    ]
    if early:
        scope.notes.append(f"early by up to {max(early) * 1000:.0f} ms")
    result = ctx.finish(scope)
    world.retire(fast)
    return result
