"""The cluster-wide per-number send rate, kept in Redis on Redis's own clock.

Every worker on every machine asks Redis for a reservation before sending on a number, and
one Lua script decides, so they all agree on the time and on who goes first.

The rule, per number at ``rate`` segments per second:

* a number never carries more than ``rate`` segments in any 1-second window, counted by
  reservation time (a send of n segments counts n at its time); the window is widened by
  ``margin_seconds`` to absorb the jitter between the reservation and the carrier's receipt;
* reservations on a number never go back in time: a message of n segments is reserved at the
  earliest s ≥ max(now, latest reservation) such that the segments reserved in
  (s − 1 − margin, s] plus n are at most ``rate``;
* a message of more segments than ``rate`` (3 segments at 1 segment/s) takes a window of its
  own: it is reserved only when its window is otherwise empty, and it keeps the number to
  itself for n / rate seconds (+ margin), so the number's long-run throughput stays ≤ rate;
* once the carrier has answered, the sender *settles* its reservation: the carrier took the
  message before that moment, so the entry stops counting 1 second (n / rate for an oversized
  one) after it, on Redis's clock. The margin then only covers sends still in flight; the
  windows booked after a settled send start from when it really left, not from its slot plus
  the worst lateness.

Each reservation is logged in a sorted set scored by the time it stops counting (its exit);
entries whose exit has passed are pruned and the keys expire once the last one has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import redis

# KEYS: the number's log, its sequence counter.
# ARGV: segments, rate, max_wait, margin, lead (the slot is at least this far from now).
# Returns {recorded (0|1), send_at, now[, entry]} as strings (Lua numbers would be cut to
# integers); the entry names a granted reservation in the log, for ``release``.
_RESERVE = """
local log, seq = KEYS[1], KEYS[2]
local n = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local margin = tonumber(ARGV[4])
local lead = tonumber(ARGV[5] or 0)
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local function fmt(x) return string.format('%.6f', x) end

redis.call('ZREMRANGEBYSCORE', log, '-inf', fmt(now))
local rows = redis.call('ZRANGE', log, 0, -1, 'WITHSCORES')
local exits, sizes = {}, {}
local start, last_exit = now + lead, now
for i = 1, #rows, 2 do
  local at, size = string.match(rows[i], '^([^|]+)|(%d+)|')
  at, size = tonumber(at), tonumber(size)
  if at > start then start = at end
  exits[#exits + 1] = tonumber(rows[i + 1])
  sizes[#sizes + 1] = size
  if exits[#exits] > last_exit then last_exit = exits[#exits] end
end

-- Load of the window ending at s: entries whose exit is after s (all started at or before s).
local s, load, i = start, 0, 1
while i <= #exits and exits[i] <= s do i = i + 1 end
for j = i, #exits do load = load + sizes[j] end
local function fits(l)
  if n > rate then return l == 0 end
  return l + n <= rate
end
-- Entries are sorted by exit: let them leave one by one until the message fits.
while not fits(load) do
  load = load - sizes[i]
  if exits[i] > s then s = exits[i] end
  i = i + 1
end

if s - now > max_wait then
  return {'0', fmt(s), fmt(now)}
end
local hold = 1
if n > rate then hold = n / rate end
local exit = s + hold + margin
local id = redis.call('INCR', seq)
local entry = fmt(s) .. '|' .. n .. '|' .. id
redis.call('ZADD', log, fmt(exit), entry)
if exit > last_exit then last_exit = exit end
local ttl = math.ceil((last_exit - now) * 1000) + 1000
redis.call('PEXPIRE', log, ttl)
redis.call('PEXPIRE', seq, ttl)
return {'1', fmt(s), fmt(now), entry}
"""

# KEYS: the number's log, its sequence counter. ARGV: entry, margin.
# Returns the entry's new exit (Redis time), or nothing if the entry is gone.
_SETTLE = """
local log, seq = KEYS[1], KEYS[2]
local entry = ARGV[1]
local margin = tonumber(ARGV[2])
local exit = redis.call('ZSCORE', log, entry)
if not exit then return false end
local at = tonumber(string.match(entry, '^([^|]+)|'))
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
-- The hold (1 s, or n / rate) is the exit less the slot and the margin; a millisecond more
-- keeps a closed window [t - 1, t] at the carrier clear of it too.
local settled = now + (tonumber(exit) - at - margin) + 0.001
redis.call('ZADD', log, 'XX', string.format('%.6f', settled), entry)
local ttl = math.ceil((settled - now) * 1000) + 1000
for _, key in ipairs({log, seq}) do
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
return string.format('%.6f', settled)
"""


@dataclass(frozen=True)
class Reservation:
    """When a message may go: ``send_at`` (Redis time), or None with ``retry_after`` seconds."""

    send_at: float | None
    wait: float
    retry_after: float
    entry: str = ""  # a granted one's line in the number's log (see ``SenderRate.release``)

    @property
    def granted(self) -> bool:
        """Say whether the slot was recorded (the caller sleeps ``wait`` then sends)."""
        return self.send_at is not None


class SenderRate:
    """Reserve send slots on sender numbers, shared by every process using the same Redis."""

    def __init__(self, redis_client: redis.Redis, margin_seconds: float = 0.03) -> None:
        if margin_seconds < 0:
            raise ValueError("margin_seconds cannot be negative.")
        self.redis = redis_client
        self.margin = margin_seconds
        self._script = redis_client.register_script(_RESERVE)
        self._settle = redis_client.register_script(_SETTLE)

    @staticmethod
    def keys(number: str) -> list[str]:
        """Return the Redis keys of ``number``'s log (hash-tagged for Redis Cluster)."""
        return [f"sms:rate:{{{number}}}:log", f"sms:rate:{{{number}}}:seq"]

    def reserve(
        self, number: str, segments: int, rate: float, max_wait: float, lead: float = 0.0
    ) -> Reservation:
        """Reserve the earliest slot for ``segments`` on ``number`` if it is within ``max_wait``;
        ``lead`` seconds from now at the soonest (the caller's work before it sends)."""
        if segments < 1:
            raise ValueError("A message has at least one segment.")
        if not rate > 0:
            raise ValueError("The rate must be above zero.")
        recorded, send_at, now, *entry = self._script(
            keys=self.keys(number),
            args=[
                int(segments),
                repr(float(rate)),
                repr(min(max(0.0, max_wait), 1e9)),
                repr(self.margin),
                repr(min(max(0.0, lead), 1e9)),
            ],
        )
        delay = max(0.0, float(send_at) - float(now))
        if recorded in (b"1", "1"):
            name = entry[0].decode() if isinstance(entry[0], bytes) else entry[0]
            return Reservation(send_at=float(send_at), wait=delay, retry_after=0.0, entry=name)
        return Reservation(send_at=None, wait=0.0, retry_after=delay)

    def release(self, number: str, reservation: Reservation) -> None:
        """Give back a granted reservation that will not be used: its room goes to others.

        Reservations made after it stay where they are (later than they need be, never
        earlier), so releasing never lets a number exceed its rate."""
        if reservation.entry:
            self.redis.zrem(self.keys(number)[0], reservation.entry)

    def settle(self, number: str, reservation: Reservation) -> float | None:
        """Say the carrier has taken the message sent on ``reservation``: its window now ends
        1 second (n / rate for an oversized message) after this moment, instead of after its
        slot plus the margin for lateness. Return the new exit (Redis time), or None when
        there was nothing to settle.

        Called after the carrier's answer, so the carrier's receipt came before now: no
        window that starts after the new exit can hold the message. A send later than the
        margin moves its exit later, so the sends booked from then on make room for it."""
        if not reservation.entry:
            return None
        settled = self._settle(keys=self.keys(number), args=[reservation.entry, repr(self.margin)])
        return float(settled) if settled is not None else None

    def log(self, number: str) -> list[tuple[float, int]]:
        """Return ``number``'s reservations still counting, as (time, segments), oldest first."""
        rows = self.redis.zrange(self.keys(number)[0], 0, -1)
        entries = []
        for row in rows:
            at, size, _id = (row.decode() if isinstance(row, bytes) else row).split("|")
            entries.append((float(at), int(size)))
        return sorted(entries)

    def reset(self, number: str) -> None:
        """Forget ``number``'s reservations."""
        self.redis.delete(*self.keys(number))


def breaches(
    log: Mapping[str, Iterable[tuple[float, int]]] | Iterable[tuple[float, int]],
    rate: float,
    window: float = 1.0,
) -> int:
    """Count the 1-second windows where a number sent more than ``rate`` segments.

    ``log`` is one number's sends as (time, segments), or a mapping number -> sends. A window
    holding a single send larger than the rate is no breach: such a message goes alone.
    Windows are half-open, (end − window, end]; only windows ending at a send are checked,
    which is enough since a window's load only grows when it reaches a send.
    """
    if isinstance(log, Mapping):
        return sum(breaches(sends, rate, window) for sends in log.values())
    sends = sorted(log)
    count, start, load = 0, 0, 0
    for end, (at, size) in enumerate(sends):
        load += size
        while sends[start][0] <= at - window:
            load -= sends[start][1]
            start += 1
        tied = end + 1 < len(sends) and sends[end + 1][0] == at
        if load > rate and end > start and not tied:
            count += 1
    return count
