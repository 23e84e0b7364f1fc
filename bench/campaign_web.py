"""The campaign benchmark's processes: the web application under gunicorn with a logged-in
shop administrator, and a sampler of every process's resident memory (its peak)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sysconfig
import threading
import time
from urllib.parse import urlencode

import psutil

CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
REVIEWED = re.compile(rb'name="reviewed" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Web:
    """``gunicorn -w 1 'host.app:create_app()'`` (sync worker, the README's command with one
    worker), and an HTTP/1.1 client logged in as ``email``."""

    def __init__(self, env: dict[str, str], log_path: str) -> None:
        self.port = free_port()
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    os.path.join(sysconfig.get_path("scripts"), "gunicorn"),
                    "-w",
                    "1",
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "120",
                    "host.app:create_app()",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.cookie = ""
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.process.returncode}")
            try:
                status, _ = self.request("GET", "/login")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError("gunicorn did not answer")

    def request(self, method: str, path: str, form: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        headers = {"Cookie": self.cookie}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        conn.close()
        return response.status, data

    def login(self, email: str, password: str) -> None:
        _, page = self.request("GET", "/login")
        form = {"email": email, "password": password, "csrf_token": _find(CSRF, page)}
        status, _ = self.request("POST", "/login", form)
        if status != 302:
            raise RuntimeError(f"login refused ({status})")

    def preview(self, campaign_id: int) -> tuple[float, dict]:
        """Open the campaign's page (its review: counts, cost); return its seconds and the
        confirm form's fields."""
        started = time.perf_counter()
        status, page = self.request("GET", f"/sms/campaigns/{campaign_id}")
        elapsed = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"campaign page answered {status}")
        return elapsed, {"csrf_token": _find(CSRF, page), "reviewed": _find(REVIEWED, page)}

    def confirm(self, campaign_id: int, fields: dict) -> float:
        started = time.perf_counter()
        status, page = self.request("POST", f"/sms/campaigns/{campaign_id}/confirm", fields)
        if status != 303:
            raise RuntimeError(f"confirm answered {status}: {page[:300]!r}")
        return time.perf_counter() - started

    def workers(self) -> list[int]:
        """The gunicorn worker processes (the master's children)."""
        try:
            return [child.pid for child in psutil.Process(self.process.pid).children()]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _find(pattern: re.Pattern, page: bytes) -> str:
    found = pattern.search(page)
    if not found:
        raise RuntimeError(f"no {pattern.pattern!r} on the page")
    return found.group(1).decode()


class Peaks:
    """Sample, every ``every`` seconds, the resident memory (RSS, MB) of the processes that
    ``groups`` names (label → function returning pids; a worker's horses are its children),
    keeping each label's peak."""

    def __init__(self, groups: dict, every: float = 0.1) -> None:
        self.groups, self.every = groups, every
        self.peak: dict[str, float] = dict.fromkeys(groups, 0.0)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            for label, pids in self.groups.items():
                for pid in pids():
                    try:
                        rss = psutil.Process(pid).memory_info().rss / 2**20
                    except psutil.Error:
                        continue
                    self.peak[label] = max(self.peak[label], rss)
            self.stopping.wait(self.every)

    def stop(self) -> dict[str, float]:
        self.stopping.set()
        self.thread.join()
        return self.peak


def family(pid: int) -> list[int]:
    """``pid`` and its children (a worker and its work horse)."""
    try:
        process = psutil.Process(pid)
        return [pid, *(child.pid for child in process.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def horses(pid: int) -> list[int]:
    """The work horses of worker ``pid`` (its children)."""
    return family(pid)[1:]
