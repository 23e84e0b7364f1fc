"""Login throttling: failed logins counted per account and per address in the app's Redis,
with ``limits`` (the rate-limit library under Flask-Limiter) on a moving window.

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

    def wait_seconds(self, email: str, address: str | None) -> int:
        """Return how many seconds ``email`` or ``address`` must wait before another login
        attempt (0: they may try now, or Redis is away: logging in never hangs on it)."""
        wait = 0.0
        try:
            for item, kind, key in self._windows(email, address):
                if not self.limiter.test(item, kind, key):
                    reset = self.limiter.get_window_stats(item, kind, key).reset_time
                    wait = max(wait, reset - time.time(), 1)
        except RedisError:
            log.warning("login throttle: Redis did not answer; the attempt is let through")
            return 0
        return math.ceil(wait)

    def failed(self, email: str, address: str | None) -> None:
        """Count a failed login against ``email`` and ``address`` (not counted while Redis
        is away, with a log line)."""
        try:
            for item, kind, key in self._windows(email, address):
                self.limiter.hit(item, kind, key)
        except RedisError:
            log.warning("login throttle: Redis did not answer; a failed login was not counted")


def login_throttle() -> LoginThrottle:
    """Return the current app's login throttle."""
    return current_app.extensions["login_throttle"]
