"""``scripts/demo | tee demo.log``, then Ctrl-C: the same Ctrl-C ends ``tee`` first, and the
demo still stops everything it started (issue 15, point 4)."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import time
import uuid

import psutil
from redis import Redis

from tests.host.test_demo_run import demo_processes, free_port
from tests.support_pipeline import wait_for
from tests.support_worker import DEADLINE, REPO, child_env


def read_until(fd: int, pattern: str, seen: bytearray) -> re.Match:
    """Read the pipe ``fd`` until its text matches ``pattern`` (fails after the deadline)."""
    deadline = time.monotonic() + DEADLINE
    while not (found := re.search(pattern, seen.decode(errors="replace"), re.MULTILINE)):
        left = deadline - time.monotonic()
        assert left > 0, f"no {pattern!r} in:\n{seen.decode(errors='replace')}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            assert chunk, f"the demo closed its output:\n{seen.decode(errors='replace')}"
            seen.extend(chunk)
    return found


def test_ctrl_c_stops_everything_when_the_output_pipe_closed_first(tmp_path):
    marker, instance = uuid.uuid4().hex, str(tmp_path / "instance")
    env = child_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite'}",
        CRMHOST_INSTANCE_PATH=instance,
        REDIS_URL=None,
        SMS_PROVIDER=None,
        CRMHOST_PUBLIC_BASE_URL=None,
        SMS_PUBLIC_BASE_URL=None,
        CRMHOST_TEST_MARKER=marker,
    )
    read_end, write_end = os.pipe()  # the pipe to ``tee``
    with open(tmp_path / "stderr.log", "wb") as stderr:
        demo = subprocess.Popen(
            [os.path.join(REPO, "scripts", "demo"), "--port", str(free_port())],
            env=env,
            stdout=write_end,
            stderr=stderr,
            start_new_session=True,  # its own process group, as a terminal's job is
        )
    os.close(write_end)
    closed = False
    try:
        seen = bytearray()
        redis_url = read_until(read_end, r"^Redis: (unix://\S+)", seen).group(1)
        read_until(read_end, "Press Ctrl-C to stop", seen)
        with Redis.from_url(redis_url) as client:
            wait_for(lambda: client.smembers("rq:workers"), what="the worker to be up")
        family = demo_processes(marker, instance)
        assert len(family) >= 3, [p.cmdline() for p in family]  # demo, worker, Redis

        os.close(read_end)  # ``tee`` ends on the Ctrl-C first...
        closed = True
        os.killpg(demo.pid, signal.SIGINT)  # ...and the terminal's SIGINT reaches the demo

        assert demo.wait(timeout=DEADLINE) == 0, (tmp_path / "stderr.log").read_text()
        _, alive = psutil.wait_procs(family, timeout=DEADLINE)
        assert not alive, [p.cmdline() for p in alive]
        assert demo_processes(marker, instance) == []
    finally:
        if not closed:
            os.close(read_end)
        for process in demo_processes(marker, instance):
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        if demo.poll() is None:
            demo.kill()
        demo.wait()
