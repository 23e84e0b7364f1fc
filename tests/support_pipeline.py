"""Helpers for the sending pipeline's tests: accepted messages, signed reports, the
simulator's record, real worker processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time

import psutil
import pytest

from host.extensions import db
from host.models import Customer
from plugins.sms_module.carriers.simulator import SimulatorCarrier
from plugins.sms_module.carriers.webhooks import signature_for
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.sending import service
from tests.support_sms import mark_disclaimed, ready_to_send
from tests.support_worker import child_env, crmhost_command


def in_process_app(make_app, **config):
    """An app whose sends the test runs in-process, one message per send job, with no
    simulator report coming back by itself, on emptied tables and Redis, and room for
    several sends a second on every number (the rate has tests of its own)."""
    from sqlalchemy import update

    from host.redis_connection import get_redis
    from plugins.sms_module.models import SenderNumber
    from tests.conftest import empty_tables

    settings = {"SMS_SIMULATOR_CALLBACK_DELAY": None, "SMS_BATCH_SECONDS": 0, **config}
    app = make_app(**settings)
    with app.app_context():
        empty_tables()
        get_redis().flushdb()
        db.session.execute(update(SenderNumber).values(rate=100))
        db.session.commit()
    return app


def accepted_message(shops, phone: str | None = None, body: str = "Votre auto est prete") -> int:
    """Accept a message for shop A's customer (optionally on another phone); return its id."""
    company, customer = ready_to_send(shops)
    if phone:
        customer = db.session.get(Customer, customer.id)
        customer.mobile_phone = phone
        db.session.commit()
        mark_disclaimed(company, customer, phone)
    return service.request_send(company, customer=customer, body=body).id


def message(message_id: int) -> SmsMessage:
    db.session.expire_all()
    return db.session.get(SmsMessage, message_id)


def history(m: SmsMessage) -> list[str]:
    return [h.status.value for h in m.history]


def carrier(app) -> SimulatorCarrier:
    return SimulatorCarrier.from_config(app.config)


def post_report(client, app, message_id, sid, status, token=None, **extra):
    """Post a delivery report signed like the carrier's."""
    path = f"/sms/twilio/status?message_id={message_id}"
    url = app.config["SMS_PUBLIC_BASE_URL"].rstrip("/") + path
    params = {"MessageSid": sid, "MessageStatus": status, **extra}
    signature = signature_for(token or app.config["SMS_SIMULATOR_AUTH_TOKEN"], url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


DEADLINE = 60


def wait_for(condition, timeout: float = DEADLINE, what: str = "condition", state=None):
    """Poll ``condition`` until it returns something true, or fail after ``timeout``
    (saying what ``state()`` shows then, if given)."""
    pause = threading.Event()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        result = condition()
        if result:
            return result
        pause.wait(0.05)
    pytest.fail(f"timed out waiting for {what}" + (f": {state()}" if state else ""))


class Workers:
    """Start and kill ``crmhost worker`` processes, each in its own process group."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.running: list[subprocess.Popen] = []
        self.logs: list[str] = []

    def start(self) -> subprocess.Popen:
        log = tempfile.NamedTemporaryFile(prefix="crmhost-worker-", suffix=".log", delete=False)
        process = subprocess.Popen(
            crmhost_command("worker"),
            env=self.env,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.logs.append(log.name)
        self.running.append(process)
        return process

    def print_logs(self, lines: int = 40) -> None:
        """Print the end of each worker's log (pytest shows it when the test fails)."""
        for name in self.logs:
            with open(name, errors="replace") as log:
                tail = log.readlines()[-lines:]
            print(f"--- {name}\n{''.join(tail)}")
            os.unlink(name)

    def kill(self, process: subprocess.Popen) -> None:
        """kill -9 the worker and its work horse at once, as a machine's crash would.

        RQ puts the horse in a process group of its own, so it is found as a child.
        """
        family = psutil.Process(process.pid).children(recursive=True)
        os.killpg(process.pid, signal.SIGKILL)
        for child in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        process.wait(timeout=DEADLINE)
        psutil.wait_procs(family, timeout=DEADLINE)
        self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(self.running):
            family = psutil.Process(process.pid).children(recursive=True)
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            # A horse must not outlive the test (warm shutdown waits for it, but be sure).
            for child in family:
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
        self.running.clear()


@pytest.fixture
def workers(database_uri, redis_url):
    def make(**settings) -> Workers:
        env = child_env(DATABASE_URL=database_uri, REDIS_URL=redis_url, SMS_PROVIDER="simulator")
        env.update({f"CRMHOST_{k}": str(v) for k, v in settings.items()})
        made.append(Workers(env))
        return made[-1]

    made: list[Workers] = []
    yield make
    for w in made:
        w.stop_all()
        w.print_logs()
