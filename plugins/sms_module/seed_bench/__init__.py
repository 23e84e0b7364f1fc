"""``crmhost sms seed-bench``: fill a database with a realistic platform's SMS traffic so
anyone can reproduce the benchmarks' figures (issue 14, point 3).

Shops of uneven sizes (``plan``), their users and consenting customers (``people``), ninety
days of messages of every kind and status with their history (``traffic``, ``steps``),
conversations on the sticky numbers of the pools, opt-outs and the consent ledger, written
with PostgreSQL's COPY or executemany on SQLite (``writer``); ``run.seed`` does it all.
"""

from plugins.sms_module.seed_bench.ready import (
    MAX_MESSAGES,
    MAX_SHOPS,
    AlreadySeeded,
    NotMigrated,
    NotReady,
    check,
)
from plugins.sms_module.seed_bench.run import described, seed
from plugins.sms_module.seed_bench.writer import count_messages

__all__ = [
    "MAX_MESSAGES",
    "MAX_SHOPS",
    "AlreadySeeded",
    "NotMigrated",
    "NotReady",
    "check",
    "count_messages",
    "described",
    "seed",
]
