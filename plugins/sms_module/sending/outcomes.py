"""What a send job did with its message: the outcomes the job returns and RQ keeps."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.StrEnum):
    SENT = "sent"
    RECONCILED = "reconciled"  # interrupted mid-call; the carrier had it
    NOTHING_TO_DO = "nothing to do"  # gone, already sent, or ended
    HELD = "another worker holds it"
    NOT_DUE = "not due yet"
    WAITING_FOR_MORNING = "waiting for the morning"
    WAITING_FOR_DISCLAIMER = "waiting for the disclaimer"
    WAITING_FOR_NUMBER = "waiting for the sender number"
    NO_SENDER_NUMBER = "no sender number"
    RETRY = "retry"
    NO_LONGER_TRUE = "withdrawn"  # untrue, or past its useful time: Canceled
    REFUSED = "refused"  # a rule refused it just before the carrier call
    FAILED = "failed"  # the carrier refused it for good


# After these, the worker has nothing else to do for its message: it helps with the queue.
HELPS_WITH_BACKLOG = frozenset(
    {
        Outcome.SENT,
        Outcome.RECONCILED,
        Outcome.NOTHING_TO_DO,
        Outcome.NO_LONGER_TRUE,
        Outcome.HELD,
        Outcome.WAITING_FOR_NUMBER,
        Outcome.WAITING_FOR_MORNING,
    }
)


@dataclass(frozen=True)
class SendResult:
    """An outcome and, for a refusal or a failure, its code: ``str()`` is what RQ keeps
    ("sent", "refused: opted_out", "failed: 21610")."""

    outcome: Outcome
    code: str | None = None

    def __str__(self) -> str:
        return f"{self.outcome}: {self.code}" if self.code else str(self.outcome)
