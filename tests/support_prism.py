"""Stoplight Prism serving Twilio's OpenAPI description, for the gateway's contract test.

The spec is read where it lives (``../shared/twilio`` beside the checkout, or the npm
package ``@twilio-alpha/mcp``), never copied into the repository. Prism is installed into
the git-ignored ``.prism/`` folder by ``.ci/run``, or here on first use when npm is there.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
PRISM_PREFIX = ROOT / ".prism"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
SPEC_NAME = "twilio_api_v2010.json"
SPEC_CANDIDATES = [
    ROOT.parent / "shared" / "twilio" / SPEC_NAME,
    *(
        base / "node_modules" / "@twilio-alpha" / "mcp" / "twilio-oai" / "spec" / "json" / SPEC_NAME
        for base in (ROOT, PRISM_PREFIX)
    ),
]
START_DEADLINE = 60.0  # seconds; Prism parses a 2 MB spec before it listens
INSTALL_TIMEOUT = 300.0


def twilio_spec_path() -> Path | None:
    """Return where Twilio's API description is, or ``None`` if it is nowhere."""
    return next((path for path in SPEC_CANDIDATES if path.is_file()), None)


def load_twilio_spec() -> dict:
    """Return Twilio's API description, skipping the test when it is missing."""
    path = twilio_spec_path()
    if path is None:
        pytest.skip(
            f"Twilio's OpenAPI description not found in {[str(p) for p in SPEC_CANDIDATES]}"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def prism_binary() -> Path | None:
    """Return the Prism executable, installing it into ``.prism/`` if npm can."""
    if found := os.environ.get("PRISM_BIN") or shutil.which("prism"):
        return Path(found)
    local = PRISM_PREFIX / "node_modules" / ".bin" / "prism"
    if local.exists():
        return local
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return None
    PRISM_PREFIX.mkdir(exist_ok=True)
    # Several test runs may share the checkout: one installs, the others wait for it.
    with open(PRISM_PREFIX / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not local.exists():
            result = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(PRISM_PREFIX),
                    "--no-audit",
                    "--no-fund",
                    PRISM_PACKAGE,
                ],
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
            if result.returncode != 0:
                pytest.skip(f"npm install {PRISM_PACKAGE} failed: {result.stderr[-500:]}")
    return local if local.exists() else None


def free_port() -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_listening(process: subprocess.Popen, base_url: str, log: Path) -> None:
    """Return once Prism answers HTTP; fail if it dies or misses the deadline."""
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        try:
            requests.get(base_url, timeout=1)  # any answer, even Prism's 404, means ready
            return
        except (requests.ConnectionError, requests.Timeout):  # not up, or slow to start
            pass
        try:
            # Waiting on the process is the pause between attempts, and notices a crash.
            process.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"Prism exited with {process.returncode}:\n{log.read_text()[-2000:]}")
    pytest.fail(f"Prism did not answer within {START_DEADLINE} s:\n{log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    """Stop Prism and the node processes it started."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def twilio_spec() -> dict:
    """Twilio's OpenAPI description, as data."""
    return load_twilio_spec()


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory) -> str:
    """The base URL of a Prism mock validating requests against Twilio's API description."""
    spec = twilio_spec_path()
    if spec is None:
        pytest.skip(
            f"Twilio's OpenAPI description not found in {[str(p) for p in SPEC_CANDIDATES]}"
        )
    prism = prism_binary()
    if prism is None:
        pytest.skip(f"Prism is not installed and npm/node are missing to install {PRISM_PACKAGE}")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(prism), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches node's children
        )
    try:
        wait_until_listening(process, base_url, log)
        yield base_url
    finally:
        stop(process)
