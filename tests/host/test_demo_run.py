"""``crmhost demo``'s processes (``host/demo/run.py``): the whole demo run and stopped for
real, and the banner's notes, which come from the plugins."""

from __future__ import annotations

import contextlib
import html
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta
from http.cookiejar import CookieJar
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, build_opener

import psutil
import pytest
from redis import Redis
from sqlalchemy import create_engine, text

from host.demo.run import plugin_notes
from tests.support_worker import DEADLINE, child_env, crmhost_command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Output:
    """The lines a process prints, read in a thread so the test can wait for one."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        self._stream = process.stdout
        self._reader = threading.Thread(target=self._read, args=(self._stream,), daemon=True)
        self._reader.start()

    def close(self) -> str:
        """Close the stream once the process has ended; return all it printed."""
        self._reader.join(timeout=DEADLINE)
        self._stream.close()
        while not self._new.empty():
            if (line := self._new.get_nowait()) is not None:
                self.lines.append(line)
        return "".join(self.lines)

    def _read(self, stream) -> None:
        for line in stream:
            self._new.put(line)
        self._new.put(None)

    def wait_for(self, pattern: str) -> re.Match:
        """Return the first line matching ``pattern``, waiting up to the deadline."""
        deadline = time.monotonic() + DEADLINE
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._new.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if found := re.search(pattern, line):
                return found
        pytest.fail(f"no line matched {pattern!r} in:\n{''.join(self.lines)}")


def demo_processes(marker: str, instance: str) -> list[psutil.Process]:
    """Find the demo's processes: those whose environment carries ``marker``, and the Redis
    server working in ``instance`` (redis-server overwrites its environment with its title)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("CRMHOST_TEST_MARKER") == marker or (
                process.name().startswith("redis-server") and process.cwd() == instance
            ):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def log_in(base: str, email: str, password: str) -> str:
    """Log in through the real login form and return the page it leads to."""
    return logged_in(base, email, password)[1]


def logged_in(base: str, email: str, password: str):
    """Log in through the real login form; return the browser and the page it leads to."""
    browser = build_opener(HTTPCookieProcessor(CookieJar()))
    with browser.open(f"{base}/login", timeout=DEADLINE) as response:
        assert response.status == 200
        form = response.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    data = {"email": email, "password": password, "csrf_token": token.group(1) if token else ""}
    with browser.open(f"{base}/login", urlencode(data).encode(), timeout=DEADLINE) as response:
        assert response.status == 200
        assert not response.url.endswith("/login"), "the printed login was refused"
        return browser, response.read().decode()


def book_appointment(base: str, browser, customer_name: str = "") -> None:
    """Book an appointment for the shop's first customer (whose name holds
    ``customer_name``) through the real form."""
    with browser.open(f"{base}/appointments/new", timeout=DEADLINE) as response:
        form = response.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    options = re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)<', form)
    customer = next(value for value, label in options if customer_name in html.unescape(label))
    when = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT10:00")
    data = {
        "csrf_token": token,
        "customer_id": customer,
        "starts_at": when,
        "vehicle": "Civic",
        "status": "booked",
    }
    with browser.open(f"{base}/appointments/new", urlencode(data).encode(), timeout=DEADLINE) as r:
        assert r.status == 200 and "/appointments/new" not in r.url


def delivered_kinds(database_url: str) -> set[str]:
    """Read the demo's database: the kinds of message the carrier reported delivered."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT kind FROM sms_message WHERE status = 'delivered'"))
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def replies(database_url: str) -> list[tuple]:
    """Read the demo's database: the customers' replies, with the shop each went to."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = "SELECT body, company_id FROM sms_message WHERE direction = 'inbound'"
            return [tuple(row) for row in conn.execute(text(query))]
    finally:
        engine.dispose()


def delivered_sids(database_url: str) -> set[str]:
    """Read the demo's database: the carrier's SIDs of the messages reported delivered."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = "SELECT provider_sid FROM sms_message WHERE status = 'delivered'"
            return {row[0] for row in conn.execute(text(query))}
    finally:
        engine.dispose()


def test_demo_runs_everything_and_ctrl_c_leaves_no_process(tmp_path):
    marker, instance = uuid.uuid4().hex, str(tmp_path / "instance")
    env = child_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite'}",
        # Its own instance folder: the embedded Redis of another run there is not joined.
        CRMHOST_INSTANCE_PATH=instance,
        REDIS_URL=None,
        SMS_PROVIDER=None,
        # The demo hands its own address down (to the SMS module's simulated carrier).
        CRMHOST_PUBLIC_BASE_URL=None,
        SMS_PUBLIC_BASE_URL=None,
        CRMHOST_TEST_MARKER=marker,
    )
    command = crmhost_command("demo", "--port", str(free_port()))
    demo = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = Output(demo)
    try:
        base = output.wait_for(r"CRM demo running on (http://\S+?)/?$").group(1)
        redis_url = output.wait_for(r"Redis: (unix://\S+)").group(1)
        email, password = output.wait_for(r"(admin\.qc@\S+)\s+(\S+)\s+admin").groups()
        # The SMS module's note, printed through the demo_notes hook.
        output.wait_for(r"^Customers whose number ends in 0777 answer each SMS they get")
        output.wait_for("Press Ctrl-C to stop")
        output.wait_for("Listening on campaigns, transactional, promotional")  # the worker is up

        browser, page = logged_in(base, email, password)
        assert "Garage Beaubien" in page
        # An appointment message goes Scheduled → … → Delivered by itself.
        book_appointment(base, browser)
        database = env["DATABASE_URL"]
        deadline = time.monotonic() + DEADLINE
        while "appointment_booked" not in delivered_kinds(database):
            assert time.monotonic() < deadline, "the demo never delivered the confirmation"
            threading.Event().wait(0.2)
        assert "disclaimer" in delivered_kinds(database)
        # The simulated customer at …0777 answers; the reply reaches the shop by itself.
        book_appointment(base, browser, "Côté")
        deadline = time.monotonic() + DEADLINE
        while not (answered := replies(database)):
            assert time.monotonic() < deadline, "the demo customer's reply never arrived"
            threading.Event().wait(0.2)
        # (It answers each SMS it gets: the disclaimer and the confirmation.)
        assert {body for body, _shop in answered} == {"OK, thanks! See you then."}
        assert all(shop is not None for _body, shop in answered)
        family = demo_processes(marker, instance)
        with Redis.from_url(redis_url) as client:
            assert client.info("server")["process_id"] in {p.pid for p in family}
            simulated = {sid.decode() for sid in client.zrange("sms:simulator:all", 0, -1)}
        worker = next(p for p in family if "host.cli worker" in " ".join(p.cmdline()))
        assert worker.environ()["REDIS_URL"] == redis_url
        # The worker sent through the carrier simulator, which reported to the demo's own
        # address: the one the demo handed down to the worker.
        delivered = delivered_sids(database)
        assert delivered and delivered <= simulated
        assert worker.environ()["CRMHOST_PUBLIC_BASE_URL"] == base

        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=DEADLINE) == 0, output.close()
        assert "warm shut down requested" in output.close()  # the worker was asked, not cut
        _, alive = psutil.wait_procs(family, timeout=DEADLINE)
        assert not alive, [p.cmdline() for p in alive]
        assert demo_processes(marker, instance) == []
    finally:
        for process in demo_processes(marker, instance):
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        demo.wait()
        output.close()


def test_the_banner_notes_come_from_the_plugins(make_app):
    # The SMS module says which demo customers answer, while the carrier is its simulator.
    with make_app().app_context():
        assert plugin_notes() == [
            "Customers whose number ends in 0777 answer each SMS they get (see SMS replies)."
        ]
    with make_app(SMS_PROVIDER="twilio").app_context():
        assert plugin_notes() == []
    # The host itself says nothing of SMS.
    with make_app(PLUGINS_DISABLED=["sms"]).app_context():
        assert plugin_notes() == []
