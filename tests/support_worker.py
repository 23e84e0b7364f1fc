"""Jobs and helpers for the worker and demo tests.

Jobs are plain top-level functions taking IDs, as real jobs are; they reach the
database and Redis through the app context the worker gives them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from datetime import UTC, datetime

from host.extensions import db
from host.models import LegacySmsLog
from host.redis_connection import get_redis

# Generous: a loaded CI machine may be slow to start a Python process.
DEADLINE = 60
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def record_sms(company_id: int, body: str) -> int:
    """Add a legacy SMS row for ``company_id`` and return its id."""
    row = LegacySmsLog(
        company_id=company_id,
        sent_at=datetime.now(UTC),
        phone="+15145550101",
        body=body,
        status="sent",
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def fail_on_purpose(company_id: int) -> None:
    """Fail, as a job whose work cannot be done does."""
    raise RuntimeError(f"refused on purpose for shop {company_id}")


def hold_until_released(name: str) -> str:
    """Say the job started, wait for the test to release it, then say it finished."""
    redis = get_redis()
    redis.rpush(f"{name}:started", os.getpid())
    if redis.blpop([f"{name}:release"], timeout=DEADLINE) is None:
        raise TimeoutError("nobody released the job")
    redis.rpush(f"{name}:finished", os.getpid())
    return "finished"


def crmhost_command(*args: str) -> list[str]:
    """Return the command line of the installed ``crmhost`` console script."""
    script = os.path.join(sysconfig.get_path("scripts"), "crmhost")
    if os.path.exists(script):
        return [script, *args]
    return [sys.executable, "-m", "host.cli", *args]


def child_env(**overrides: str | None) -> dict[str, str]:
    """Return this process's environment with ``overrides`` (``None`` removes a variable)."""
    env = dict(os.environ)
    # The jobs of this module must import in the child, whatever its working folder.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_crmhost(*args: str, env: dict[str, str], cwd: str | None = None):
    """Run ``crmhost`` to completion; its ``stdout`` holds its whole output."""
    return subprocess.run(
        crmhost_command(*args),
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
