"""Leases: Redis keys a live worker holds on what it works on, kept alive by a heartbeat.

A worker sending a message holds the message's lease; the sweeper leaves a message whose
lease is held. A lease lives ``SMS_LEASE_TTL_SECONDS`` (3 s) and a thread of the holding
process renews it every third of that while the work goes on, however long the carrier
takes (a lease given back within that third, as most sends are, is never renewed). A
worker killed with -9 renews nothing, so what it held is free within the TTL, and the
sweeper gives it to another worker: a dead worker's lease no longer holds a
message up to a minute (issue 15, point 4: "none is late because of a lock"; the chaos
suite measured a Queued message 63 s late behind the 60-second lease of a killed worker).

Each lease holds a token of its own: renewing and releasing touch the key only while it
still holds that token, so a holder that lost its lease (a process frozen past the TTL)
never frees or extends another's.
"""

from __future__ import annotations

import math
import os
import threading
import time
import uuid
from typing import NamedTuple

import redis as redis_lib
from redis.commands.core import Script

# KEYS[1]: the lease; ARGV[1]: the holder's token; ARGV[2]: the TTL in milliseconds.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# KEYS[1]: the lease; ARGV[1]: the holder's token; ARGV[2]: what the key holds until it
# expires (no holder's token: nobody renews or releases it).
_LINGER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
end
return 0
"""
# KEYS[1]: the lease; ARGV[1]: the holder's token.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class _Held(NamedTuple):
    """A lease the process holds: where, whose, its TTL and when it is next renewed."""

    renew: Script
    token: str
    ttl_ms: int
    due: float  # monotonic time of its next renewal


class _Keeper:
    """One thread per process renewing every lease the process holds, each a third of its
    TTL after it was taken or last renewed: a lease given back sooner (a send takes a few
    milliseconds) is never renewed, so a busy worker pays no heartbeat per message."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start afresh: a forked child (a work horse) renews only the leases it takes, and
        never waits on a lock its parent's keeper held at the fork."""
        self.lock = threading.Lock()
        self.held: dict[str, _Held] = {}
        self.pid: int | None = None
        self.wake = threading.Event()
        self.next_at = math.inf  # when the keeper wakes next (monotonic)

    def add(self, renew: Script, key: str, token: str, ttl_ms: int) -> None:
        due = time.monotonic() + ttl_ms / 3000
        with self.lock:
            self.held[key] = _Held(renew, token, ttl_ms, due)
            if self.pid != os.getpid():  # first lease of this process (a forked work horse)
                self.pid = os.getpid()
                self.next_at = due
                self.wake = threading.Event()
                threading.Thread(target=self._run, name="lease-keeper", daemon=True).start()
            elif due < self.next_at:
                self.wake.set()  # due before the keeper wakes (idle, or a shorter TTL)

    def remove(self, key: str) -> None:
        with self.lock:
            self.held.pop(key, None)

    def _run(self) -> None:
        while True:
            now = time.monotonic()
            with self.lock:
                due = [(key, held) for key, held in self.held.items() if held.due <= now]
            for key, held in due:
                try:
                    held.renew(keys=[key], args=[held.token, held.ttl_ms])
                except Exception:  # noqa: BLE001 - the keeper must outlive any one lease
                    pass  # Redis away: the lease lapses, the sweeper re-examines the message
                with self.lock:
                    if self.held.get(key) == held:  # still held, by the same holder
                        self.held[key] = held._replace(due=time.monotonic() + held.ttl_ms / 3000)
            with self.lock:
                self.next_at = min((held.due for held in self.held.values()), default=math.inf)
                self.wake.clear()
                left = self.next_at - time.monotonic()
                wait = None if self.next_at == math.inf else max(0.0, left)
            self.wake.wait(wait)


_keeper = _Keeper()
os.register_at_fork(after_in_child=_keeper.reset)


# What a lingering lease's key holds (``Lease.release(linger=True)``).
DONE = "done"


class Lease:
    """The lease ``key``: ``acquire`` it, work, ``release`` it (or use ``with`` after a
    successful ``acquire``). ``ttl_seconds`` is how long it outlives its holder's death."""

    def __init__(self, client: redis_lib.Redis, key: str, ttl_seconds: float) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = max(int(ttl_seconds * 1000), 300)
        self.token = uuid.uuid4().hex
        self.held = False
        # Sent by digest (EVALSHA), not as text each time.
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._linger = client.register_script(_LINGER)

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; return whether it is ours. Raises
        ``redis.RedisError`` when Redis is away."""
        self.held = bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))
        if self.held:
            _keeper.add(self._renew, self.key, self.token, self.ttl_ms)
        return self.held

    def done(self) -> bool:
        """Tell whether the key lingers after its holder finished (``release(linger=True)``);
        ``False`` when Redis cannot say."""
        try:
            return self.client.get(self.key) == DONE.encode()
        except redis_lib.RedisError:
            return False

    def still_ours(self) -> bool:
        """Tell whether this lease is held and still ours (not lapsed, not taken over);
        ``False`` when Redis cannot say."""
        if not self.held:
            return False
        try:
            return self.client.get(self.key) == self.token.encode()
        except redis_lib.RedisError:
            return False

    def release(self, linger: bool = False) -> None:
        """Give the lease back if it is still ours (Redis away: it lapses on its own). With
        ``linger``, the key stays until its TTL ends, holding no token: nobody can take the
        lease meanwhile (what it covered is done; others passing by need not look)."""
        if not self.held:
            return
        _keeper.remove(self.key)
        self.held = False
        try:
            if linger:
                self._linger(keys=[self.key], args=[self.token, DONE])
            else:
                self._release(keys=[self.key], args=[self.token])
        except redis_lib.RedisError:
            pass
