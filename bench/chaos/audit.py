"""The audit that ends every scenario (issue 15, point 6), from the database and the carrier
stub's own record, never from what the product says about itself.

For every accepted message, booking and reply: a final status or accounted for (Failed or
Canceled with a reason, waiting for a send time still ahead); duplicates at the carrier (one
phone and body created more than once); lost (a booking whose confirmation was never
written, a message recorded Sent/Delivered that the carrier never got, a SID that is another
message's); stuck (Accepted/Scheduled/Queued/Sending when due, or Sent where a final status
was asked for); early (created at the carrier before its ``send_at``, by the stub's clock);
rate breaches (``plugins.sms_module.sending.rate.breaches`` over the stub's sends per number,
as ``bench/rate_accuracy.py``); and the workers: killed, restarted, exited on their own.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from bench.chaos.carrier import Create
from bench.chaos.product import Product, Row
from bench.chaos.world import World
from plugins.sms_module.sending.rate import breaches
from plugins.sms_module.texts.segments import count_segments

FINAL = {"delivered", "undelivered", "failed", "canceled"}
WAITING = {"accepted", "scheduled", "queued", "sending"}
CARRIER_HAS = {"sent", "delivered", "undelivered"}


@dataclass
class Scope:
    """What one scenario accepted, and where to look for it."""

    name: str
    phones: set[str]
    since_id: int
    start: float
    messages: list[int] = field(default_factory=list)  # ids the API accepted
    at_once: dict[int, float] = field(default_factory=dict)  # id → when the API accepted it
    bookings: list[int] = field(default_factory=list)  # appointment ids committed
    others: dict[str, str] = field(default_factory=dict)  # unit → final|stuck|lost|duplicate
    need_final: bool = False  # Sent is not enough: a delivery report or a fetch must follow
    failures: list[str] = field(default_factory=list)  # the scenario's own checks that failed
    notes: list[str] = field(default_factory=list)


@dataclass
class Result:
    """One line of the closing table, with what explains it."""

    name: str
    accepted: int = 0
    final: int = 0
    sent_only: int = 0
    duplicates: int = 0
    lost: int = 0
    stuck: int = 0
    early: int = 0
    breaches: int = 0
    restarted: int = 0
    alive: str = ""
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        figures = (self.duplicates, self.lost, self.stuck, self.early, self.breaches)
        return self.skipped is None and not any(figures) and not self.failures

    @property
    def verdict(self) -> str:
        if self.skipped:
            return f"not run: {self.skipped}"
        return "pass" if self.passed else "FAIL"


def stuck_row(row: Row, now: float, need_final: bool) -> bool:
    """Tell whether a message is held where nothing moves it on by itself."""
    due = row.send_at is None or row.send_at.timestamp() <= now
    return (row.status in WAITING and due) or (need_final and row.status == "sent")


def audit(world: World, product: Product, scope: Scope) -> Result:
    """Audit ``scope`` now; return its line of the table."""
    now = time.time()
    result = Result(scope.name, failures=list(scope.failures), notes=list(scope.notes))
    rows = [r for r in product.rows(scope.phones, scope.since_id) if r.direction == "outbound"]
    by_id = {r.id: r for r in rows}
    creates = [c for c in world.carrier.state.snapshot() if c.at >= scope.start - 1]
    sids = {c.sid: c for c in world.carrier.state.snapshot()}
    mine = [c for c in creates if c.to in scope.phones]
    per_message: dict[int, list[Create]] = defaultdict(list)
    for c in mine:
        per_message[c.message_id].append(c)
    per_text = Counter((c.to, c.body) for c in mine)
    result.duplicates = sum(1 for n in per_text.values() if n > 1)

    phantom, swapped, early, failed_there = [], [], [], []
    for row in rows:
        got = per_message.get(row.id, [])
        if row.status in CARRIER_HAS and not got:
            phantom.append(row.id)
        if row.provider_sid and sids.get(row.provider_sid) is not None:
            owner = sids[row.provider_sid]
            if owner.message_id != row.id or owner.body != row.body:
                swapped.append(row.id)
        if row.send_at is not None and any(c.at < row.send_at.timestamp() for c in got):
            early.append(row.id)
        if row.status == "failed" and got:
            failed_there.append(row.id)
    result.early = len(early)

    # Units: API messages, bookings (their confirmation), others judged by the scenario.
    units: list[str] = []
    for message_id in scope.messages:
        row = by_id.get(message_id)
        units.append("lost" if row is None else state_of(row, now, scope.need_final))
    for appointment_id in scope.bookings:
        confirmations = [
            r for r in rows if r.appointment_id == appointment_id and r.kind == "appointment_booked"
        ]
        if not confirmations:
            units.append("lost")
            continue
        if len(confirmations) > 1:
            result.duplicates += len(confirmations) - 1
        units.append(state_of(confirmations[0], now, scope.need_final))
    units += list(scope.others.values())
    count = Counter(units)
    result.accepted = len(units)
    result.final = count["final"]
    result.sent_only = count["sent"]
    result.duplicates += count["duplicate"]
    result.lost = count["lost"] + len(phantom) + len(swapped)
    stuck = [r.id for r in rows if stuck_row(r, now, scope.need_final)]
    result.stuck = len(stuck) + Counter(scope.others.values())["stuck"]
    result.breaches = rate_breaches(product, creates)
    _workers(world, scope, result)
    if phantom:
        result.notes.append(f"recorded Sent/Delivered, never at the carrier: {phantom[:8]}")
    if swapped:
        result.notes.append(f"carrying another message's SID: {swapped[:8]}")
    if stuck:
        result.notes.append(f"stuck: {stuck[:8]}")
        steps = [
            (round(at.timestamp() - scope.start, 1), str(status), detail)
            for at, status, _source, detail in product.history(stuck[0])
        ]
        result.notes.append(f"history of {stuck[0]} (s after the start): {steps}")
    if early:
        result.notes.append(f"early (before send_at): {early[:8]}")
        steps = [
            (round(at.timestamp() - scope.start, 2), str(status), detail)
            for at, status, _source, detail in product.history(early[0])
        ]
        first = min(c.at for c in per_message[early[0]])
        result.notes.append(
            f"history of {early[0]} (s after the start; created at the carrier at "
            f"{first - scope.start:.2f} s, send_at {by_id[early[0]].send_at.isoformat()}): {steps}"
        )
    if failed_there:
        result.notes.append(f"Failed although the carrier has them: {failed_there[:8]}")
    delays = sorted(
        per_message[m][0].at - at for m, at in scope.at_once.items() if per_message.get(m)
    )
    if delays:
        result.notes.append(
            f"API → carrier: p50 {delays[len(delays) // 2]:.1f} s, max {delays[-1]:.1f} s"
        )
    statuses = Counter(r.status for r in rows)
    result.notes.append(
        f"statuses {dict(sorted(statuses.items()))}, creates {len(mine)}, "
        f"refused 500 before create {refused(world, scope)}"
    )
    return result


def state_of(row: Row, now: float, need_final: bool) -> str:
    """Return what an accepted message is now: final, sent, waiting (its time ahead), stuck."""
    if row.status in FINAL:
        return "final"
    if stuck_row(row, now, need_final):
        return "stuck"
    return "sent" if row.status == "sent" else "waiting"


def refused(world: World, scope: Scope) -> int:
    return sum(
        1
        for at, to, _f, _b in world.carrier.state.refused
        if at >= scope.start and to in scope.phones
    )


def rate_breaches(product: Product, creates: list[Create]) -> int:
    """Count the 1-second windows in which a sender number got more than its rate, over
    every create of the window (whoever's), segments by ``count_segments``."""
    rates = product.rates()
    log: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for c in creates:
        log[c.from_].append((c.at, count_segments(c.body).segments or 1))
    return sum(breaches(sends, rates.get(number, 1.0)) for number, sends in log.items())


def _workers(world: World, scope: Scope, result: Result) -> None:
    events = world.events_since(scope.start)
    kinds = Counter(what for _at, _name, what in events)
    result.restarted = kinds["restarted"]
    live = len(world.live())
    result.alive = f"{result.restarted} / {live} alive"
    exits = {what: n for what, n in kinds.items() if what.startswith("exited")}
    if exits:
        result.failures.append(f"workers exited by themselves: {exits}")
    if live == 0:
        result.failures.append("no worker running at the end")
