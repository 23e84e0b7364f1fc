"""Marketing campaigns (PRODUCT.md §7, §10): who a campaign reaches (``audience``), its
fan-out to the send service as a job on the promotional queue (``fanout``), and how far
it went (``progress``). The public names are re-exported here; ``prepare`` keeps the
dotted path of fan-out jobs queued by an earlier layout."""

from plugins.sms_module.campaigns.audience import (
    Audience,
    AudienceCounts,
    audience,
    audience_counts,
    estimate,
)
from plugins.sms_module.campaigns.fanout import (
    JOBS_KEY,
    KIND,
    PAGE,
    PREPARE_FUNCTION,
    QUEUE,
    SOURCE,
    dedupe_key,
    enqueue,
    job_of,
    lease_key,
    prepare,
    stopped_message,
    sweep_unprepared,
)
from plugins.sms_module.campaigns.progress import BUCKETS, status_counts

__all__ = [
    "Audience",
    "AudienceCounts",
    "BUCKETS",
    "JOBS_KEY",
    "KIND",
    "PAGE",
    "PREPARE_FUNCTION",
    "QUEUE",
    "SOURCE",
    "audience",
    "audience_counts",
    "dedupe_key",
    "enqueue",
    "estimate",
    "job_of",
    "lease_key",
    "prepare",
    "status_counts",
    "stopped_message",
    "sweep_unprepared",
]
