"""What ``seed`` checks before it writes anything: sizes within bounds, a migrated database
(every table and column of the models), no messages yet unless appending, and an enabled
sender number in each pool."""

from __future__ import annotations

from sqlalchemy import inspect, select

from host.api import db
from plugins.sms_module.models import SenderNumber
from plugins.sms_module.seed_bench.writer import count_messages

# The largest run: 10 M messages (≈1.7 M customers, phones distinct below ≈7.9 M ids) is
# hours of COPY; a larger number is a typo, refused before anything is written.
MAX_MESSAGES = 10_000_000
MAX_SHOPS = 10_000
NOT_MIGRATED = "The database is not migrated: run crmhost db upgrade."


class NotReady(RuntimeError):
    """The database cannot take the seed as it is: nothing was written."""


class NotMigrated(NotReady):
    """A table or a column of the models is missing from the database."""


class AlreadySeeded(NotReady):
    """The database already holds messages, and appending was not asked."""


def missing_schema() -> list[str]:
    """Return the tables (``name``) and columns (``table.column``) of the app's models
    that the database lacks: empty once ``crmhost db upgrade`` has run."""
    found = {
        table: {column["name"] for column in columns}
        for (_, table), columns in inspect(db.engine).get_multi_columns().items()
    }
    missing = []
    for table in db.metadata.sorted_tables:
        if table.name not in found:
            missing.append(table.name)
            continue
        missing.extend(
            f"{table.name}.{c.name}" for c in table.columns if c.name not in found[table.name]
        )
    return missing


def check(messages: int, shops: int, append: bool) -> dict[str, list[tuple[int, str]]]:
    """Return the enabled sender numbers (id, number) of each pool. Raise ``ValueError``
    for sizes out of bounds, ``NotMigrated`` for a database not migrated, ``AlreadySeeded``
    for one with messages when ``append`` is false, ``NotReady`` for a pool with no number."""
    if not 1 <= messages <= MAX_MESSAGES or not 1 <= shops <= MAX_SHOPS:
        raise ValueError(
            f"seed-bench takes 1 to {MAX_MESSAGES:,} messages and 1 to {MAX_SHOPS:,} shops"
        )
    if missing_schema():
        raise NotMigrated(NOT_MIGRATED)
    if count_messages() and not append:
        raise AlreadySeeded("The database already holds messages: use --append to add more.")
    return pools()


def pools() -> dict[str, list[tuple[int, str]]]:
    """Return the enabled numbers of each queue (``sending.pools``: migration-seeded)."""
    rows = db.session.execute(
        select(SenderNumber.id, SenderNumber.number, SenderNumber.queue)
        .where(SenderNumber.enabled.is_(True))
        .order_by(SenderNumber.id)
    )
    found: dict[str, list[tuple[int, str]]] = {"transactional": [], "promotional": []}
    for number_id, number, queue in rows:
        found[str(queue.value if hasattr(queue, "value") else queue)].append((number_id, number))
    if not found["transactional"] or not found["promotional"]:
        raise NotReady(
            "seed-bench needs an enabled sender number in each pool: "
            "crmhost sms numbers add NUMBER --queue transactional (and promotional)"
        )
    return found
