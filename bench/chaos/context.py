"""What every scenario shares: the world, the product, the run's size, and the steps around
a fault (begin, post in the background, drain with a deadline, audit)."""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from redis.exceptions import ResponseError
from rq import Worker

from bench.chaos.audit import WAITING, Result, Scope, audit, stuck_row
from bench.chaos.product import Answer, Product
from bench.chaos.world import Slot, World, tree

ACCEPTED = (200, 201, 202)
# A message due further ahead than this (seconds) is not waited for (a reminder days ahead).
HORIZON = 3600
# Where the lock of the delayed-job release lives: the product's own (host/scheduling.py),
# any other ``crmhost:`` lock, then RQ's scheduler locks (``rq:scheduler-lock:<queue>``).
LOCK_PATTERNS = (
    "crmhost:release-due",
    "crmhost:*release*",
    "crmhost:*sched*",
    "crmhost:*lock*",
    "rq:scheduler-lock:*",
)


@dataclass
class Context:
    world: World
    product: Product
    short: bool
    say: Callable[[str], None] = print
    rng: random.Random = field(default_factory=lambda: random.Random(15))

    def n(self, short, full):
        """Return the short run's figure or the full run's."""
        return short if self.short else full

    def begin(self, name: str, customers: list, need_final: bool = False) -> Scope:
        """Start a scenario: the carrier back to normal, three workers, a watermark."""
        self.world.carrier.state.reset()
        self.world.ensure_workers()
        self.say(f"\n### {name}")
        if not self.wait_workers(20):
            self.say("  (a worker has not registered with Redis after 20 s)")
        return Scope(
            name,
            {phone for _id, phone in customers},
            self.product.last_id(),
            time.time(),
            need_final=need_final,
        )

    def post_all(self, jobs: list[tuple], workers: int = 8) -> list[Answer]:
        """Send ``(customer_id, body[, send_at])`` requests in parallel; return the answers."""
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda job: self.product.send(*job), jobs))

    def in_background(self, function: Callable, *args) -> threading.Thread:
        """Run ``function(*args)`` in a thread (a fault, a client); join it later."""
        failure: list[BaseException] = []

        def run() -> None:
            try:
                function(*args)
            except BaseException as error:  # reported by the join
                failure.append(error)

        thread = threading.Thread(target=run, daemon=True)
        thread.failure = failure  # type: ignore[attr-defined]
        thread.start()
        return thread

    def accept(self, scope: Scope, answers: list[Answer]) -> list[Answer]:
        """Keep the accepted answers in ``scope``; note (and fail on) any 5xx."""
        good = [a for a in answers if a.status in ACCEPTED and a.message_id]
        scope.messages += [a.message_id for a in good]
        scope.at_once.update({a.message_id: a.at for a in good if a.due is None})
        bad = [a.status for a in answers if a.status not in ACCEPTED]
        if bad:
            scope.notes.append(f"API answers not accepted: {sorted(bad)[:10]}")
        return good

    def settled(self, scope: Scope) -> bool:
        """Tell whether nothing of ``scope`` waits any more: no message short of Sent (or of
        a final status where one is asked for) unless due beyond ``HORIZON`` seconds (a
        reminder days ahead), every accepted message and booking confirmation written."""
        now = time.time()
        rows = [
            r for r in self.product.rows(scope.phones, scope.since_id) if r.direction == "outbound"
        ]
        for r in rows:
            later = r.send_at is not None and r.send_at.timestamp() > now + HORIZON
            if stuck_row(r, now, scope.need_final) or (r.status in WAITING and not later):
                return False
        known = {r.id for r in rows}
        confirmed = {r.appointment_id for r in rows if r.kind == "appointment_booked"}
        return all(m in known for m in scope.messages) and all(
            b in confirmed for b in scope.bookings
        )

    def drain(self, scope: Scope, timeout: float, also: Callable[[], bool] | None = None):
        """Wait until ``scope`` has settled (and ``also()`` holds), ``timeout`` at most."""
        started = time.monotonic()
        carrier = self.world.carrier.state
        done = self.product.wait(
            lambda: self.settled(scope) and carrier.idle() and (also is None or also()),
            timeout,
            every=0.5,
        )
        waited = time.monotonic() - started
        scope.notes.append(
            f"settled in {waited:.0f} s"
            if done
            else f"NOT settled after the {timeout:.0f} s deadline"
        )
        return done

    def finish(self, scope: Scope) -> Result:
        """Audit ``scope``, print its figures and notes; return its line."""
        self.world.carrier.state.reset()
        result = audit(self.world, self.product, scope)
        self.say(
            f"  accepted {result.accepted}, final {result.final} (+{result.sent_only} Sent), "
            f"duplicates {result.duplicates}, lost {result.lost}, stuck {result.stuck}, "
            f"early {result.early}, breaches {result.breaches}, workers {result.alive} "
            f"→ {result.verdict}"
        )
        for line in result.failures:
            self.say(f"  ! {line}")
        for line in result.notes:
            self.say(f"  - {line}")
        return result

    def wait_workers(self, timeout: float = 60) -> bool:
        """Wait until every running worker has registered with Redis (built, listening)."""

        def ready() -> bool:
            pids = {w.pid for w in Worker.all(connection=self.world.redis)}
            return all(pids & set(tree(s.process.pid)) for s in self.world.live())

        return self.product.wait(ready, timeout, every=0.2)

    # Locks -------------------------------------------------------------------------------

    def lock_holder(self) -> tuple[str | None, Slot | None]:
        """Return the key of the delayed-job release lock and the worker holding it."""
        redis = self.world.redis
        names = {w.name: w.pid for w in Worker.all(connection=redis)}
        for pattern in LOCK_PATTERNS:
            for key in sorted(redis.scan_iter(pattern)):
                try:
                    value = (redis.get(key) or b"").decode(errors="replace")
                except ResponseError:  # a hash or a set: no lock
                    continue
                tokens = set(re.split(r"[:\s]", value))
                if value in names:
                    tokens.add(str(names[value]))
                for slot in self.world.live():
                    if tokens & {str(pid) for pid in tree(slot.process.pid)}:
                        return key.decode(), slot
        return None, None
