"""Login throttling: failed logins counted per account and per address in the app's Redis,
with ``limits`` (the rate-limit library under Flask-Limiter) on a moving window. Each attempt
is counted before its password is checked (the atomic gate), and taken back when it succeeds.

Config:
    LOGIN_LIMIT_PER_ACCOUNT: failed logins an e-mail address (known or not) may have in the
        window, in ``limits`` notation (default ``10 per 15 minutes``).
    LOGIN_LIMIT_PER_ADDRESS: failed logins one IP address may have (default ``50 per 15
        minutes``: a shop's staff often share one address).

The counters live in Redis (``REDIS_URL``, else the embedded Redis), so every web process
on every machine counts together; e-mails are stored hashed (SHA-256), never in clear.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from host.redis_connection import get_redis

PREFIX = "crmhost-login"
log = logging.getLogger(__name__)


class LoginThrottle:
    """The per-app limiter (``app.extensions["login_throttle"]``); its Redis storage is made
    on first use, so an app that never sees a login never starts the embedded Redis."""

    def __init__(self, app: Flask) -> None:
        app.config.setdefault("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")
        app.config.setdefault("LOGIN_LIMIT_PER_ADDRESS", "50 per 15 minutes")
        self.per_account: RateLimitItem = parse(app.config["LOGIN_LIMIT_PER_ACCOUNT"])
        self.per_address: RateLimitItem = parse(app.config["LOGIN_LIMIT_PER_ADDRESS"])
        self._limiter: MovingWindowRateLimiter | None = None
        self._lock = threading.Lock()
        app.extensions["login_throttle"] = self

    @property
    def limiter(self) -> MovingWindowRateLimiter:
        with self._lock:
            if self._limiter is None:
                pool = get_redis().connection_pool
                storage = RedisStorage("redis://", connection_pool=pool, key_prefix=PREFIX)
                self._limiter = MovingWindowRateLimiter(storage)
            return self._limiter

    def _windows(self, email: str, address: str | None):
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return [
            (self.per_account, "account", account),
            (self.per_address, "address", address or "unknown"),
        ]

    def attempt(self, email: str, address: str | None) -> int:
        """Count a login attempt against ``email`` and ``address`` before its password is
        checked, and return 0 when it may go on, else the seconds to wait (the answer 429).

        Counting first, with ``limits``' atomic ``hit`` (a Lua script in Redis), is the gate:
        of N simultaneous attempts at most the limit get past, never all of them (a "check,
        then count the failure" let 30 parallel guesses through a limit of 10; issue 13).
        A refused attempt takes back what it counted, so only attempts that reach the
        password check count. Redis away: 0, with a log line (logging in never hangs on it).
        """
        counted = []
        try:
            for item, kind, key in self._windows(email, address):
                if not self.limiter.hit(item, kind, key):
                    self._take_back(counted)
                    reset = self.limiter.get_window_stats(item, kind, key).reset_time
                    return math.ceil(max(reset - time.time(), 1))
                counted.append((item, kind, key))
        except RedisError:
            log.warning("login throttle: Redis did not answer; the attempt is let through")
        return 0

    def succeeded(self, email: str, address: str | None) -> None:
        """Take back the attempt ``attempt`` counted for a login that succeeded: only failed
        logins stay in the windows (a shop's staff all logging in at 9 a.m. from one address
        are not throttled; the account's earlier failures still count, so a right password
        does not give an attacker a fresh set of guesses)."""
        try:
            self._take_back(self._windows(email, address))
        except RedisError:
            log.warning("login throttle: Redis did not answer; a login was left counted")

    def _take_back(self, windows) -> None:
        """Remove one entry from each window: the moving window is a Redis list, newest
        first; its newest entry goes (ours or a simultaneous one: the count is the same)."""
        storage = self.limiter.storage
        for item, kind, key in windows:
            storage.get_connection().lpop(storage.prefixed_key(item.key_for(kind, key)))


def login_throttle() -> LoginThrottle:
    """Return the current app's login throttle."""
    return current_app.extensions["login_throttle"]
