"""Marketing campaigns (PRODUCT.md §7, §10): who a campaign reaches (``audience``), what it
will send and cost before it goes (``review``), what the shop does to it: confirm, edit,
cancel (``control``), a test to a phone of the shop's own (``trial``), its fan-out as a job
on a queue of its own, writing its messages a chunk at a time (``fanout``, ``chunks``,
``rows``, ``queueing``), its messages that have not left (``messages``), and how far it
went (``progress``). The public names
are re-exported here; ``prepare`` keeps the dotted path of fan-out jobs queued by an
earlier layout."""

from plugins.sms_module.campaigns.audience import Reach, audience, reach
from plugins.sms_module.campaigns.control import (
    NotAllowed,
    cancel,
    confirm,
    edit_text,
    finished,
    redraft,
    stage,
)
from plugins.sms_module.campaigns.fanout import (
    KIND,
    PAGE,
    SOURCE,
    dedupe_key,
    prepare,
    stopped_message,
)
from plugins.sms_module.campaigns.progress import BUCKETS, Outcome, outcomes
from plugins.sms_module.campaigns.queueing import (
    JOBS_KEY,
    PREPARE_FUNCTION,
    QUEUE,
    drain,
    enqueue,
    job_of,
    keep_draining,
    lease_key,
    sweep_unprepared,
)
from plugins.sms_module.campaigns.review import Estimate, estimate, fingerprint, message_text
from plugins.sms_module.campaigns.trial import (
    TESTS_PER_HOUR,
    TooManyTests,
    own_phones,
    send_test,
    tests_of,
)

__all__ = [
    "BUCKETS",
    "Estimate",
    "JOBS_KEY",
    "KIND",
    "NotAllowed",
    "Outcome",
    "PAGE",
    "PREPARE_FUNCTION",
    "QUEUE",
    "Reach",
    "SOURCE",
    "TESTS_PER_HOUR",
    "TooManyTests",
    "audience",
    "cancel",
    "confirm",
    "dedupe_key",
    "drain",
    "edit_text",
    "enqueue",
    "estimate",
    "fingerprint",
    "finished",
    "job_of",
    "keep_draining",
    "lease_key",
    "message_text",
    "outcomes",
    "own_phones",
    "prepare",
    "reach",
    "redraft",
    "send_test",
    "stage",
    "stopped_message",
    "sweep_unprepared",
    "tests_of",
]
