"""The mail fault (issue 15: "An SMTP server that accepts and never answers holds
transactional workers"): customers' replies forwarded by e-mail to a server that accepts
and never answers, while SMS are sent. SMS are not delayed by the mail, and each forward
ends recorded failed, never done with no e-mail sent.

A control comes first: a few replies forwarded through a normal SMTP server arrive, so a
failure later is the fault's, not the world's. The product's retry settings for mail, if it
has any (a setting named like ``*MAIL*RETR*`` / ``*FORWARD*RETR*``), are made small so that
the last retry falls inside the run; without one, a forward still retrying at the end is
reported as waiting, not judged.
"""

from __future__ import annotations

import re
import statistics

from bench.chaos.audit import Result, Scope
from bench.chaos.context import Context

MAX_SMS_DELAY = 10.0  # seconds from the API's 201 to the carrier: a held worker shows here
MAX_EXTRA_DELAY = 2.0  # seconds more than the baseline's slowest SMS
RETRY_SETTING = re.compile(r"(MAIL|FORWARD|SMTP).*RETR")


def _numbers(ctx: Context, phones: list[str]) -> dict[str, str]:
    """Return the sender number each phone last heard from (the carrier's record)."""
    heard = {}
    for create in ctx.world.carrier.state.snapshot():
        if create.to in phones:
            heard[create.to] = create.from_
    return heard


def _reply_all(ctx: Context, scope: Scope, customers: list, label: str) -> list[str]:
    """Post one reply from each customer to the number it heard from; return their SIDs."""
    heard = _numbers(ctx, [phone for _id, phone in customers])
    sids = []
    for _id, phone in customers:
        status, sid = ctx.product.reply(phone, heard[phone], f"{label} reply from {phone}")
        if status == 200:
            sids.append(sid)
        else:
            scope.notes.append(f"inbound webhook answered {status}")
    return sids


def _forward_state(ctx: Context, sids: list[str], mailed: bool) -> dict[str, str]:
    """Judge each reply's forward: ``final`` (failed on record, or e-mailed where the server
    works), ``lost`` (recorded done although no e-mail could go, or the reply is missing),
    ``pending`` (still being tried)."""
    found = ctx.product.forwards(sids)
    states = {}
    for sid in sids:
        row = found.get(sid)
        if row is None:
            states[sid] = "lost"
        elif any(v for k, v in row.items() if k.endswith("failed_at") or k.endswith("error")):
            states[sid] = "final"
        elif row.get("forwarded_at"):
            states[sid] = "final" if mailed else "lost"
        else:
            states[sid] = "pending"
    return states


def smtp_hang(ctx: Context, customers: list) -> Result:
    """Replies forwarded to a hanging SMTP server while SMS are sent (see the module)."""
    scope = ctx.begin("smtp_hang", customers)
    world, product = ctx.world, ctx.product
    product.forward_to("shop@example.com")
    control, hanging, senders = customers[:2], customers[2:6], customers[6:]
    inbox = world.normal_smtp.inbox
    before = inbox.count()
    sids = _reply_all(ctx, scope, control, "control")
    arrived = product.wait(lambda: inbox.count() >= before + len(sids), 30)
    scope.notes.append(f"control: {inbox.count() - before} of {len(sids)} forwards e-mailed")
    if not arrived:
        scope.failures.append("control: forwards through a working SMTP server did not arrive")
    scope.others.update(_forward_state(ctx, sids, mailed=True))
    retries = {
        k: [1, 2] if isinstance(v, list | tuple) else 2
        for k, v in world.app.config.items()
        if RETRY_SETTING.search(k)
    }
    scope.notes.append(f"mail retry settings made small: {retries or 'none found'}")
    count = ctx.n(30, 60)
    # The baseline: the same SMS on workers started the same way, the SMTP server fine.
    _restart_workers(ctx, **retries)
    jobs = [(senders[i % len(senders)][0], f"smtp_hang baseline {i}") for i in range(count)]
    baseline = ctx.accept(scope, ctx.post_all(jobs, workers=2))
    ctx.drain(scope, 30)
    before = _delays(ctx, baseline)
    scope.notes.append(f"baseline, SMTP server fine: {_figures(before)}")

    # A 1-second SMTP timeout (default 5): the forwards, one at a time (SMS_MAIL_CONCURRENCY),
    # reach their last try within the suite's wait.
    _restart_workers(ctx, SMTP_PORT=world.hanging_smtp.port, SMTP_TIMEOUT=1, **retries)
    ctx.say(f"  workers on a hanging SMTP server; {len(hanging) * 2} replies, SMS meanwhile")
    sids = _reply_all(ctx, scope, hanging, "first") + _reply_all(ctx, scope, hanging, "second")
    jobs = [(senders[i % len(senders)][0], f"smtp_hang {i}: ready") for i in range(count)]
    answers = ctx.accept(scope, ctx.post_all(jobs, workers=2))
    ctx.drain(scope, ctx.n(60, 120))
    delays = _delays(ctx, answers)
    scope.notes.append(f"SMTP server hanging: {_figures(delays)}")
    allowed = min(MAX_SMS_DELAY, (before[-1] if before else 0) + MAX_EXTRA_DELAY)
    if delays and delays[-1] > allowed:
        scope.failures.append(
            f"SMS delayed by the mail: up to {delays[-1]:.1f} s, against {before[-1]:.1f} s "
            "with the SMTP server fine"
        )
    product.wait(
        lambda: "pending" not in _forward_state(ctx, sids, False).values(),
        ctx.n(40, 90) if retries else 15,
    )
    states = _forward_state(ctx, sids, mailed=False)
    pending = [s for s, v in states.items() if v == "pending"]
    for sid, state in states.items():
        judged = "stuck" if retries else "waiting"
        scope.others[sid] = judged if state == "pending" else state
    scope.notes.append(
        f"hanging SMTP: forwards {dict(_count(states))}, connections held "
        f"{world.hanging_smtp.accepted}"
    )
    if pending and not retries:
        scope.notes.append(
            f"{len(pending)} forwards still being retried (no retry setting to shorten): not judged"
        )
    result = ctx.finish(scope)
    _restart_workers(ctx)
    return result


def _restart_workers(ctx: Context, **settings) -> None:
    """Replace every worker by a fresh one with ``settings``; wait until they listen."""
    ctx.world.retire(*ctx.world.live())
    ctx.world.ensure_workers(3, **settings)
    ctx.wait_workers()


def _delays(ctx: Context, answers: list) -> list[float]:
    """Return the API → carrier delays of ``answers`` (first create, stub clock), sorted."""
    firsts: dict[int | None, float] = {}
    for create in ctx.world.carrier.state.snapshot():
        firsts.setdefault(create.message_id, create.at)
    return sorted(firsts[a.message_id] - a.at for a in answers if a.message_id in firsts)


def _figures(delays: list[float]) -> str:
    if not delays:
        return "no SMS reached the carrier"
    p95 = delays[int(0.95 * (len(delays) - 1))]
    return (
        f"SMS API → carrier p50 {statistics.median(delays):.1f} s, p95 {p95:.1f} s, "
        f"max {delays[-1]:.1f} s"
    )


def _count(states: dict[str, str]) -> dict[str, int]:
    result: dict[str, int] = {}
    for state in states.values():
        result[state] = result.get(state, 0) + 1
    return result
