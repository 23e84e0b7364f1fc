"""Carrier faults and killed workers with no delivery reports (issue 15: "Reconciliation
mixes messages up"): 0 duplicates at the carrier, 0 recorded Sent/Delivered that it never
got, no swapped SIDs, none left Sending."""

from __future__ import annotations

import time

from bench.chaos.audit import Result, Scope
from bench.chaos.context import Context

MIX = {"500_after": 0.075, "500_before": 0.075, "timeout": 0.075, "slow": 0.075}


def carrier_faults_no_reports(ctx: Context, customers: list) -> Result:
    """30 % mixed faults at the carrier (500 after the create, 500 without it, timeouts,
    slow answers), reports off; first the issue's exact example: two messages to one phone
    from one number, the first create answered 500 and not created, the second slow."""
    scope = ctx.begin("carrier_faults_no_reports", customers)
    state = ctx.world.carrier.state
    state.reports("off")
    example_customer = customers[0][0]
    state.plan("EXAMPLE-A", ["500_before", "none", "none", "none", "none"])
    state.plan("EXAMPLE-B", ["slow", "none", "none", "none", "none"])
    state.settings.slow = (4.0, 5.0)
    first = ctx.product.send(example_customer, "EXAMPLE-A: your car is ready")
    second = ctx.product.send(example_customer, "EXAMPLE-B: your invoice is ready")
    ctx.accept(scope, [first, second])
    state.settings.slow = (3.0, 5.0)
    state.set_mix(MIX, seed=15)
    count = ctx.n(40, 150)
    others = customers[1:]
    jobs = [
        (others[i % len(others)][0], f"carrier_faults {i}: ready at 5 pm") for i in range(count)
    ]
    ctx.accept(scope, ctx.post_all(jobs))
    ctx.drain(scope, ctx.n(90, 180))
    state.set_mix({})
    scope.notes.append(f"faults applied: {dict(state.faults_since(scope.start))}")
    _judge_example(ctx, scope, first.message_id, second.message_id)
    return ctx.finish(scope)


def _judge_example(ctx: Context, scope: Scope, first: int | None, second: int | None) -> None:
    """Fail the scenario if the exact example went wrong: each message created once at the
    carrier, under its own SID."""
    rows = {r.id: r for r in ctx.product.rows(scope.phones, scope.since_id)}
    creates = ctx.world.carrier.state.snapshot()
    for label, message_id in (("first", first), ("second", second)):
        row = rows.get(message_id)
        if row is None:
            scope.failures.append(f"example: the {label} message was not accepted")
            continue
        own = [c for c in creates if c.message_id == message_id]
        sid_owner = next((c for c in creates if c.sid == row.provider_sid), None)
        wrong = sid_owner is not None and sid_owner.message_id != message_id
        if len(own) != 1 or wrong or (row.status in ("sent", "delivered") and not own):
            scope.failures.append(
                f"example: the {label} message is {row.status} with {len(own)} create(s) at "
                f"the carrier{', carrying the other one’s SID' if wrong else ''}"
            )
    a = next(
        (
            at
            for at, _t, _f, body in ctx.world.carrier.state.refused
            if body.startswith("EXAMPLE-A") and at >= scope.start
        ),
        None,
    )
    times = {
        label: [round(c.at - (a or scope.start), 1) for c in creates if c.message_id == message_id]
        for label, message_id in (("first", first), ("second", second))
    }
    scope.notes.append(f"exact example: first refused at 0 s, creates after it {times}")


def kill9_no_reports(ctx: Context, customers: list) -> Result:
    """kill -9 a random worker (with its work horse) N times while messages are sent,
    reports off: no duplicates, no swapped SIDs, none left Sending. The supervisor starts
    each killed worker again half a second later."""
    scope = ctx.begin("kill9_no_reports", customers)
    state = ctx.world.carrier.state
    state.reports("off")
    state.settings.latency = 0.3  # workers spend their time in the carrier call: kills land there
    unanswered = state.unanswered
    kills = ctx.n(5, 20)
    every = ctx.n(1.5, 2.0)
    count = ctx.n(60, 200)
    window = kills * every
    jobs = [
        (customers[i % len(customers)][0], f"kill9 {i}: your tires are in") for i in range(count)
    ]

    def client() -> None:  # posts spread over the kills, so sends run all along
        for start in range(0, count, 10):
            ctx.accept(scope, ctx.post_all(jobs[start : start + 10], workers=4))
            time.sleep(window / (count / 10))  # the client's own pace

    poster = ctx.in_background(client)
    done = 0
    while done < kills:
        time.sleep(every)  # the fault's own rhythm
        live = ctx.world.live()
        if live:
            ctx.world.kill(ctx.rng.choice(live))
            done += 1
    poster.join()
    ctx.say(f"  {done} workers killed with SIGKILL, {len(scope.messages)} messages accepted")
    scope.notes.append(
        f"creates whose caller was gone (killed mid-call): {state.unanswered - unanswered}"
    )
    lease = float(ctx.world.app.config["SMS_SEND_LEASE_SECONDS"])
    ctx.drain(scope, lease + ctx.n(60, 120))
    return ctx.finish(scope)
