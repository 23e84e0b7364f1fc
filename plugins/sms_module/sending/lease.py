"""Leases: Redis keys a live worker holds on what it works on, kept alive by a heartbeat.

A worker sending a message holds the message's lease; the sweeper leaves a message whose
lease is held. A lease lives ``SMS_LEASE_TTL_SECONDS`` (3 s) and a thread of the holding
process renews it every third of that while the work goes on, however long the carrier
takes. A worker killed with -9 renews nothing, so what it held is free within the TTL,
and the sweeper gives it to another worker: a dead worker's lease no longer holds a
message up to a minute (issue 15, point 4: "none is late because of a lock"; the chaos
suite measured a Queued message 63 s late behind the 60-second lease of a killed worker).

Each lease holds a token of its own: renewing and releasing touch the key only while it
still holds that token, so a holder that lost its lease (a process frozen past the TTL)
never frees or extends another's.
"""

from __future__ import annotations

import os
import threading
import uuid

import redis as redis_lib

# KEYS[1]: the lease; ARGV[1]: the holder's token; ARGV[2]: the TTL in milliseconds.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
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


class _Keeper:
    """One thread per process renewing every lease the process holds."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[str, tuple[redis_lib.Redis, str, int]] = {}
        self.pid: int | None = None
        self.wake = threading.Event()

    def add(self, client: redis_lib.Redis, key: str, token: str, ttl_ms: int) -> None:
        with self.lock:
            self.held[key] = (client, token, ttl_ms)
            if self.pid != os.getpid():  # first lease of this process (a forked work horse)
                self.pid = os.getpid()
                self.wake = threading.Event()
                threading.Thread(target=self._run, name="lease-keeper", daemon=True).start()
            else:
                self.wake.set()  # a shorter TTL than the keeper's pace: it paces anew

    def remove(self, key: str) -> None:
        with self.lock:
            self.held.pop(key, None)

    def _run(self) -> None:
        while True:
            with self.lock:
                held = list(self.held.items())
            interval = min((ttl for _, (_, _, ttl) in held), default=3000) / 3000
            for key, (client, token, ttl_ms) in held:
                try:
                    client.eval(_RENEW, 1, key, token, ttl_ms)
                except Exception:  # noqa: BLE001 - the keeper must outlive any one lease
                    pass  # Redis away: the lease lapses, the sweeper re-examines the message
            self.wake.wait(interval)
            self.wake.clear()


_keeper = _Keeper()


class Lease:
    """The lease ``key``: ``acquire`` it, work, ``release`` it (or use ``with`` after a
    successful ``acquire``). ``ttl_seconds`` is how long it outlives its holder's death."""

    def __init__(self, client: redis_lib.Redis, key: str, ttl_seconds: float) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = max(int(ttl_seconds * 1000), 300)
        self.token = uuid.uuid4().hex
        self.held = False

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; return whether it is ours. Raises
        ``redis.RedisError`` when Redis is away."""
        self.held = bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))
        if self.held:
            _keeper.add(self.client, self.key, self.token, self.ttl_ms)
        return self.held

    def still_ours(self) -> bool:
        """Tell whether this lease is held and still ours (not lapsed, not taken over);
        ``False`` when Redis cannot say."""
        if not self.held:
            return False
        try:
            return self.client.get(self.key) == self.token.encode()
        except redis_lib.RedisError:
            return False

    def release(self) -> None:
        """Give the lease back if it is still ours (Redis away: it lapses on its own)."""
        if not self.held:
            return
        _keeper.remove(self.key)
        self.held = False
        try:
            self.client.eval(_RELEASE, 1, self.key, self.token)
        except redis_lib.RedisError:
            pass
