"""The chaos suite's own PostgreSQL cluster and Redis server, each restartable at will.

PostgreSQL: a temporary cluster made with the system's binaries (``/usr/lib/postgresql/*/bin``)
on a free port; as root they run as ``postgres`` (``runuser``), with a data folder it owns.
``stop``/``start``/``restart`` and ``read_only`` give the faults of issue 15 (a restart, a
read-only database). Redis: ``redis-server`` on a free port without persistence, so a restart
comes back empty, as after a crash of a cache-only Redis.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import psycopg
import redis


class MissingTool(RuntimeError):
    """A binary the suite needs is not installed; the message says which."""


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pg_bin_dir() -> str:
    """Return the newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and
    ``pg_ctl``; raise ``MissingTool`` without one."""
    found = [
        d
        for d in glob.glob("/usr/lib/postgresql/*/bin")
        if os.path.exists(os.path.join(d, "initdb")) and os.path.exists(os.path.join(d, "pg_ctl"))
    ]
    if not found:
        raise MissingTool("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin/initdb)")
    return max(found, key=lambda d: int(d.split("/")[-2].split(".")[0]))


class Postgres:
    """A temporary PostgreSQL cluster of its own (superuser ``postgres``, trust auth)."""

    def __init__(self, database: str = "chaos") -> None:
        self.bin = pg_bin_dir()
        self.root = tempfile.mkdtemp(prefix="crmhost-chaos-pg-")
        os.chmod(self.root, 0o755)  # the postgres user must reach the data folder
        self.data = os.path.join(self.root, "data")
        self.sockets = os.path.join(self.root, "run")
        self.log = os.path.join(self.root, "postgres.log")
        self.port = free_port()
        self.database = database
        self.as_root = os.geteuid() == 0
        for path in (self.data, self.sockets):
            os.makedirs(path, mode=0o700)
        open(self.log, "a").close()
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            for path in (self.data, self.sockets, self.log):
                shutil.chown(path, "postgres", "postgres")
        self._run(
            "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"
        )
        self.start()
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{database}"')

    @property
    def url(self) -> str:
        """The database's URL (``postgresql://``; the app picks the psycopg 3 driver)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [os.path.join(self.bin, tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=300"
        )
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: clients are disconnected; ``immediate``: a crash)."""
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop the server, keep it down ``down_seconds``, start it again."""
        self.stop()
        if down_seconds:
            time.sleep(down_seconds)  # the fault's own duration
        self.start()

    def read_only(self, on: bool) -> None:
        """Make every new transaction read-only (``default_transaction_read_only``), or
        writable again; applied by a reload, to the sessions already open too."""
        with self._admin() as conn:
            if on:
                conn.execute("ALTER SYSTEM SET default_transaction_read_only = on")
            else:
                conn.execute("ALTER SYSTEM RESET default_transaction_read_only")
            conn.execute("SELECT pg_reload_conf()")

    def close(self) -> None:
        """Stop the server at once and remove its folder."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    """``redis-server`` on a free port with no persistence: a restart comes back empty."""

    def __init__(self, folder: str) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise MissingTool("redis-server")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server (empty) and wait until it answers PING."""
        log = open(os.path.join(self.folder, "redis.log"), "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.folder,
                "--maxclients",
                "2000",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        end = time.monotonic() + 15
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > end or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start; see {self.folder}") from None
                time.sleep(0.02)  # polling a starting server
            finally:
                client.close()

    def stop(self) -> None:
        """Kill the server (SIGKILL: what it held is gone)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def restart(self, down_seconds: float = 1.0) -> None:
        """Kill the server, keep it down ``down_seconds``, start it again, empty."""
        self.stop()
        time.sleep(down_seconds)  # the fault's own duration
        self.start()

    def close(self) -> None:
        self.stop()
