"""What ``rate_accuracy.py`` reads after its runs: the simulated carrier's record of every
send, the send jobs' outcomes, the span the limiter's rule alone allows, the workers' CPU
time (``/proc``), and a CPU-bound process to run beside a timed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rq.job import Job
from rq.registry import FinishedJobRegistry

from bench.common import Bench, children
from plugins.sms_module.carriers.simulator import PREFIX

TICK = os.sysconf("SC_CLK_TCK")  # /proc's CPU times are in clock ticks


@dataclass
class Timed:
    """One timed run: its messages, when they fell due, and what it cost the workers."""

    ids: list[int]
    due: float  # epoch seconds
    late: float  # how long after the due time the enqueueing finished (s)
    complete: bool
    waited: float  # seconds
    cpu: float  # the workers' CPU seconds over the run
    sends: list = field(default_factory=list)  # (time, segments, sid) of its own messages

    @property
    def makespan(self) -> float:
        return max(s[0] for s in self.sends) - min(s[0] for s in self.sends)

    def cpu_ms(self) -> float:
        """The workers' CPU milliseconds per message sent."""
        return 1000 * self.cpu / len(self.ids)


def carrier_sends(bench: Bench) -> dict[str, list[tuple[float, int, str]]]:
    """Return every send the simulated carrier took, as (time, segments, sid) by number."""
    sends: dict[str, list[tuple[float, int, str]]] = defaultdict(list)
    for sid, at in bench.redis.zrange(f"{PREFIX}:all", 0, -1, withscores=True):
        sender, segments = bench.redis.hmget(f"{PREFIX}:msg:{sid.decode()}", "from", "segments")
        sends[sender.decode()].append((at, int(segments), sid.decode()))
    return sends


def message_of(bench: Bench, sid: str) -> int:
    """Return our message id, which the carrier keeps in the status-callback URL."""
    url = bench.redis.hget(f"{PREFIX}:msg:{sid}", "callback").decode()
    return int(url.rsplit("message_id=", 1)[1])


def outcomes(bench: Bench) -> Counter:
    """Count what each finished send job said it did (sent, waiting for the number…)."""
    registry = FinishedJobRegistry("transactional", connection=bench.redis)
    jobs = Job.fetch_many(registry.get_job_ids(), connection=bench.redis)
    return Counter(str(job.return_value()) for job in jobs if job is not None)


def rule_span(sizes: list[int], rate: float, margin: float) -> float:
    """Return the first → last send span the limiter's rule allows for ``sizes`` sent in this
    order with no dispatch delay: each send at the earliest moment the segments of the sends
    in the window (t − 1 − margin, t] leave room for it. Against the span measured, it
    separates what the rule costs (whole messages in 1-second windows) from the workers'
    delays."""
    sends: list[tuple[float, int]] = []
    at = 0.0
    for size in sizes:
        while True:
            inside = [(t, n) for t, n in sends if t > at - 1 - margin + 1e-9]
            if sum(n for _t, n in inside) + size <= rate:
                break
            at = min(t for t, _n in inside) + 1 + margin
        sends.append((at, size))
    return sends[-1][0] - sends[0][0] if sends else 0.0


def _ticks(pid: int) -> int:
    """Return the CPU time of ``pid`` and of its children it has waited for, in ticks
    (user + system, /proc/PID/stat fields 14 to 17); 0 for a process that is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(value) for value in fields[11:15])


def workers_cpu(bench: Bench) -> float:
    """Return the CPU seconds the workers have used so far: each ``crmhost worker`` with the
    work horses it waited for, plus those still running. Taken before and after a timed
    run, the difference is what that run cost the workers (a horse running at the first
    reading and ended by the second is counted once: its whole time moves into its worker's)."""
    ticks = 0
    for process in bench.workers:
        ticks += _ticks(process.pid) + sum(_ticks(horse) for horse in children(process.pid))
    return ticks / TICK


@contextmanager
def cpu_bound_beside(on: bool = True) -> Iterator[subprocess.Popen | None]:
    """Run one CPU-bound process (``while True: pass``, no CPU affinity) for the block, as
    another program on the machine would; killed after it (issue 14, point 7)."""
    if not on:
        yield None
        return
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
    try:
        yield hog
    finally:
        os.killpg(hog.pid, signal.SIGKILL)
        hog.wait()
