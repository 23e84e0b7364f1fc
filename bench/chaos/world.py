"""The chaos suite's world: its own PostgreSQL and Redis, the carrier and SMTP stubs, the
product in its production shape (gunicorn ``-w 2`` with the README's app factory, three
``crmhost worker``), in Twilio mode against the stub; torn down by ``close``.

It builds on ``bench.common.Bench`` (the app, the migrated database, the shop), aimed at its
own services. A thread plays the supervisor: a worker the suite killed is started again
(systemd's ``Restart=always`` after a kill), one that exits by itself with a non-zero status
too (``Restart=on-failure``), one that exits 0 by itself stays down, as it would in
production; each exit is kept in ``events`` for the audit.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import signal
import subprocess
import sysconfig
import threading
import time
from dataclasses import dataclass, field

import requests

from bench.chaos.carrier_http import start_carrier
from bench.chaos.services import Postgres, RedisServer, free_port
from bench.chaos.smtp import HangingSmtp, NormalSmtp
from bench.common import Bench, children, crmhost, wait_for

RESTART_DELAY = 0.5  # seconds the supervisor waits before starting a worker again
WORKERS = 3


@dataclass
class Slot:
    """One supervised worker: its command prefix (``faketime``), process and log."""

    name: str
    log: str
    prefix: tuple[str, ...] = ()
    settings: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None
    killed: bool = False  # by the suite: the supervisor starts it again
    retired: bool = False  # stopped on purpose: nobody starts it again
    down_since: float | None = None


def tree(pid: int) -> list[int]:
    """Return ``pid`` and every process descending from it."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children(current))
    return found


class World(Bench):
    """Everything a chaos run needs, started in ``__init__``; ``close`` stops all of it."""

    def __init__(self, extra: dict | None = None, log=print) -> None:
        self.say = log
        self.pg = self.redis_server = self.carrier = self.web = None
        self.hanging_smtp = self.normal_smtp = None
        self.slots: list[Slot] = []
        self.events: list[tuple[float, str, str]] = []  # (time, worker, what)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.account_sid = "AC" + secrets.token_hex(16)
        self.auth_token = secrets.token_hex(16)
        self.web_port = free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        try:
            self._build(extra or {})
        except BaseException:
            self.close()
            raise

    def _build(self, extra: dict) -> None:
        self.pg = Postgres()
        self.redis_server = RedisServer(self.pg.root)  # its folder beside the cluster's
        self.carrier = start_carrier(self.account_sid, self.auth_token)
        self.hanging_smtp, self.normal_smtp = HangingSmtp(), NormalSmtp()
        os.environ["SECRET_KEY"] = secrets.token_hex(32)
        os.environ["BENCH_DATABASE_URL"] = self.pg.url
        os.environ["BENCH_REDIS_URL"] = self.redis_server.url
        # Alembic's logging config writes the migration steps to stderr: keep them out.
        with contextlib.redirect_stderr(io.StringIO()):
            self._bench(extra)
        self.supervisor = threading.Thread(target=self._supervise, daemon=True)
        self.supervisor.start()

    def _bench(self, extra: dict) -> None:
        super().__init__(
            SMS_PROVIDER="twilio",
            TWILIO_ACCOUNT_SID=self.account_sid,
            TWILIO_AUTH_TOKEN=self.auth_token,
            TWILIO_API_BASE_URL=self.carrier.url,
            PUBLIC_BASE_URL=self.web_url,
            SMS_PUBLIC_BASE_URL=self.web_url,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=self.normal_smtp.port,
            **extra,
        )

    # The product's processes -----------------------------------------------------------

    def worker_env(self, **settings) -> dict[str, str]:
        env = super().worker_env(**settings)
        env["SMS_PROVIDER"] = "twilio"  # Bench's default is the simulator
        return env

    def start_web(self) -> None:
        """Start gunicorn (2 workers) on the README's factory; wait until it answers."""
        gunicorn = os.path.join(sysconfig.get_path("scripts"), "gunicorn")
        log = open(os.path.join(self.tmp, "web.log"), "ab")  # noqa: SIM115
        self.web = subprocess.Popen(
            [
                gunicorn,
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{self.web_port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "host.app:create_app()",
            ],
            env=self.worker_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

        def answers() -> bool:
            try:
                return requests.get(self.web_url + "/api/v1/openapi.json", timeout=2).ok
            except requests.RequestException:
                return False

        wait_for(answers, 60, "gunicorn", every=0.2)

    def add_worker(self, prefix: tuple[str, ...] = (), **settings) -> Slot:
        """Start one more supervised ``crmhost worker`` (``prefix``: e.g. ``faketime``)."""
        with self._lock:
            slot = Slot(f"w{len(self.slots)}", "", prefix, settings)
            slot.log = os.path.join(self.tmp, f"worker-{slot.name}.log")
            self.slots.append(slot)
            self._spawn(slot)
            return slot

    def _spawn(self, slot: Slot) -> None:
        log = open(slot.log, "ab")  # noqa: SIM115
        slot.process = subprocess.Popen(
            [*slot.prefix, *crmhost(), "worker"],
            env=self.worker_env(**slot.settings),
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        slot.killed, slot.down_since = False, None

    def live(self) -> list[Slot]:
        """Return the supervised workers running now."""
        with self._lock:
            return [s for s in self.slots if not s.retired and s.process.poll() is None]

    def kill(self, slot: Slot, sig: int = signal.SIGKILL) -> None:
        """Kill a worker and all its processes (work horse, scheduler): a machine lost."""
        with self._lock:
            slot.killed = True
            pids = tree(slot.process.pid)
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            self.events.append((time.time(), slot.name, "killed"))

    def retire(self, *slots: Slot) -> None:
        """Stop workers for good (SIGTERM to each group, then SIGKILL what is left after
        20 s): a reconfiguration, not a fault."""
        families = {}
        with self._lock:
            for slot in slots:
                slot.retired = True
                if slot.process.poll() is None:
                    families[slot.name] = tree(slot.process.pid)
                    os.killpg(slot.process.pid, signal.SIGTERM)
        end = time.monotonic() + 20
        for slot in slots:
            try:
                slot.process.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            for pid in families.get(slot.name, []):  # a work horse or scheduler left behind
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            slot.process.wait()

    def ensure_workers(self, count: int = WORKERS, prefix=(), **settings) -> None:
        """Start workers until ``count`` plain ones run (a dead one is replaced first)."""
        with self._lock:
            for slot in self.slots:
                if not slot.retired and slot.process.poll() is not None:
                    slot.retired = True
                    self.events.append((time.time(), slot.name, "replaced"))
            while len(self.live()) < count:
                self.add_worker(prefix, **settings)

    def _supervise(self) -> None:
        while not self._stop.wait(0.1):
            with self._lock:
                for slot in self.slots:
                    code = slot.process.poll()
                    if slot.retired or code is None:
                        continue
                    now = time.time()
                    if slot.down_since is None:
                        slot.down_since = now
                        if not slot.killed:
                            self.events.append((now, slot.name, f"exited {code}"))
                    if (slot.killed or code != 0) and now - slot.down_since >= RESTART_DELAY:
                        self._spawn(slot)
                        self.events.append((now, slot.name, "restarted"))

    def events_since(self, since: float) -> list[tuple[float, str, str]]:
        with self._lock:
            return [e for e in self.events if e[0] >= since]

    # Teardown ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop everything this world started; remove its folders."""
        self._stop.set()
        steps = [self._stop_workers, self._stop_web]
        if hasattr(self, "app"):
            steps.append(super().close)
        elif hasattr(self, "tmp"):
            steps.append(lambda: shutil.rmtree(self.tmp, ignore_errors=True))
        for service in (self.carrier, self.hanging_smtp, self.normal_smtp):
            if service is not None:
                steps.append(service.close)
        for service in (self.redis_server, self.pg):
            if service is not None:
                steps.append(service.close)
        for step in steps:
            try:
                step()
            except Exception as error:  # keep tearing down the rest
                self.say(f"  (teardown: {step.__qualname__} failed: {error!r})")

    def _stop_workers(self) -> None:
        with self._lock:
            slots = list(self.slots)
        self.retire(*[slot for slot in slots if slot.process is not None])

    def _stop_web(self) -> None:
        if self.web is not None and self.web.poll() is None:
            os.killpg(self.web.pid, signal.SIGTERM)
            try:
                self.web.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.web.pid, signal.SIGKILL)
                self.web.wait()
