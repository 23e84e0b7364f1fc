"""The benchmarks' yardstick job: nothing, run by the same worker class as a send."""

from __future__ import annotations


def noop() -> None:
    """Do nothing: what is left is the worker's own cost per job."""
