"""What the webhook benchmark (``bench/webhooks.py``) drives and compares against: a bare
Flask app that only checks Twilio's signature, the same app keeping each request with one
durable INSERT, gunicorn serving an app, and a load client.

The bare app is what the product is measured against: the same routes, the same
``X-Twilio-Signature`` check with Twilio's ``RequestValidator`` on the same form, and
nothing else. The floor app (``floor_app``) adds the least any endpoint that keeps what it
is told can do: one INSERT of the request's SID and text into a table with nothing but a
primary key, through the driver itself (psycopg, prepared, autocommit; sqlite3 on SQLite),
committed before answering. gunicorn serves each with the same settings as the product
(``-w 4``, sync workers: the README's production command), so the ratios between them count
only what the product does beyond the check, and beyond keeping one row.

The client sends requests built and signed beforehand (raw HTTP/1.1 bytes, one connection
each, as gunicorn's sync workers close it after each answer) from ``CONCURRENCY`` threads,
so its own CPU cost per request is a socket connect, a send and a read.
"""

from __future__ import annotations

import os
import queue
import socket
import sqlite3
import subprocess
import sysconfig
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import psycopg
from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

# Where the carrier is told to call us: every signature covers this address.
PUBLIC_BASE = "https://crm.example.com"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def bare_app() -> Flask:
    """Return the bare endpoint: ``POST /sms/twilio/status`` and ``/sms/twilio/inbound``
    that check the signature (token: env ``BENCH_WEBHOOK_TOKEN``) and answer as the product
    does (200, empty or an empty TwiML), storing nothing. gunicorn:
    ``'bench.webhooks_load:bare_app()'``."""
    app = Flask(__name__)
    validator = RequestValidator(os.environ["BENCH_WEBHOOK_TOKEN"])

    def check() -> None:
        url = PUBLIC_BASE + request.full_path.rstrip("?")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(url, request.form.to_dict(), signature):
            abort(403)

    @app.post("/sms/twilio/status")
    def status():
        check()
        return "", 200

    @app.post("/sms/twilio/inbound")
    def inbound():
        check()
        return Response(EMPTY_TWIML, mimetype="text/xml")

    @app.get("/ready")
    def ready():
        return "ok"

    return app


# The floor app's table (created by ``create_floor_table`` before gunicorn starts).
FLOOR_TABLE = "bench_floor_intake"


def create_floor_table(url: str) -> None:
    """Create the floor app's table on the database at SQLAlchemy ``url`` (emptied)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    key = "bigserial" if engine.dialect.name == "postgresql" else "integer"
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {FLOOR_TABLE}"))
        connection.execute(
            text(f"CREATE TABLE {FLOOR_TABLE} (id {key} PRIMARY KEY, sid text, body text)")
        )
    engine.dispose()


def floor_app() -> Flask:
    """Return the floor endpoint: ``bare_app``'s check, then one INSERT of the request's
    ``MessageSid`` and status or body into ``FLOOR_TABLE``, committed before the answer, on
    the database at env ``DATABASE_URL`` (one connection per gunicorn worker, opened on its
    first request). gunicorn: ``'bench.webhooks_load:floor_app()'``."""
    app = bare_app()
    url = os.environ["DATABASE_URL"]
    insert = f"INSERT INTO {FLOOR_TABLE} (sid, body) VALUES (%s, %s)"
    held = {}

    def keep(text: str | None) -> None:
        connection = held.get("connection")
        if url.startswith("postgresql"):
            if connection is None:
                plain = url.replace("postgresql+psycopg://", "postgresql://")
                connection = held["connection"] = psycopg.connect(plain, autocommit=True)
            connection.execute(insert, (request.form.get("MessageSid"), text), prepare=True)
            return
        if connection is None:
            connection = held["connection"] = sqlite3.connect(url.split("///", 1)[1])
        with connection:  # commits
            connection.execute(insert.replace("%s", "?"), (request.form.get("MessageSid"), text))

    @app.after_request
    def kept(response: Response) -> Response:
        if request.method == "POST" and response.status_code == 200:
            field = "MessageStatus" if request.path.endswith("/status") else "Body"
            keep(request.form.get(field))
        return response

    return app


def signed_request(token: str, path: str, params: dict[str, str]) -> bytes:
    """Return the raw bytes of a form POST to ``path`` signed as Twilio signs it."""
    signature = RequestValidator(token).compute_signature(PUBLIC_BASE + path, params)
    body = urlencode(params).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: crm.example.com\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class Slice:
    """What one burst of requests got: each answer's HTTP status and latency, and the
    burst's wall-clock seconds."""

    statuses: list[int]
    latencies: list[float]
    seconds: float


def post(port: int, payload: bytes, timeout: float = 60) -> int:
    """Send one request to ``127.0.0.1:port``; return its HTTP status (0: no answer)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(payload)
            first = conn.recv(65536)
            while conn.recv(65536):
                pass
    except OSError:
        return 0
    try:
        return int(first.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def fire(port: int, payloads: list[bytes], concurrency: int) -> Slice:
    """Send every payload to ``port`` from ``concurrency`` threads, each taking the next;
    return the answers in the payloads' order."""
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for item in enumerate(payloads):
        todo.put(item)
    statuses = [0] * len(payloads)
    latencies = [0.0] * len(payloads)

    def run() -> None:
        while True:
            try:
                index, payload = todo.get_nowait()
            except queue.Empty:
                return
            began = time.perf_counter()
            statuses[index] = post(port, payload)
            latencies[index] = time.perf_counter() - began

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Slice(statuses, latencies, time.perf_counter() - began)


def gunicorn(
    app: str, port: int, env: dict[str, str], log_path: str, workers: int = 2, threads: int = 1
):
    """Start gunicorn (``workers`` sync workers, as the README runs it; with ``threads`` > 1
    gthread workers of that many threads) serving ``app`` on ``127.0.0.1:port``; return its
    process (its own session: ``stop`` ends it)."""
    log = open(log_path, "ab")  # noqa: SIM115
    process = subprocess.Popen(
        [
            os.path.join(sysconfig.get_path("scripts"), "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            *(["--threads", str(threads)] if threads > 1 else []),
            *os.environ.get("BENCH_GUNICORN_EXTRA", "").split(),
            app,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    return process


def wait_ready(port: int, path: str, process, timeout: float = 60) -> None:
    """Wait until the server on ``port`` answers ``GET path`` with 200 (both workers up:
    a few answers in a row)."""
    payload = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    end = time.monotonic() + timeout
    pause = threading.Event()
    answered = 0
    while answered < 4:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn on port {port} exited {process.returncode}")
        if time.monotonic() > end:
            raise TimeoutError(f"gunicorn on port {port} did not answer {path}")
        answered = answered + 1 if post(port, payload, timeout=5) == 200 else 0
        pause.wait(0.1)


def stop(process) -> None:
    """Stop a gunicorn started by ``gunicorn`` (SIGTERM to its group, SIGKILL after 10 s)."""
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def free_port() -> int:
    """Return a TCP port free on localhost now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def empty_postgres(url: str | None) -> None:
    """Empty the benchmark's own PostgreSQL database (``BENCH_DATABASE_URL``; nothing for
    another one): its schema dropped with everything in it, functions that depend on the
    tables included, which a table-by-table drop would refuse."""
    if not url or not url.startswith(("postgres://", "postgresql")):
        return
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
