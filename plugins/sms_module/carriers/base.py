"""What the sending pipeline needs from a carrier, whichever one answers: Twilio
(``twilio``) or the built-in simulator (``simulator``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class CarrierMessage:
    """The carrier's view of one message."""

    sid: str
    status: str  # the carrier's own status word, e.g. "queued", "delivered"
    to: str
    from_: str
    error_code: int | None = None
    error_message: str | None = None
    date_created: datetime | None = None


class CarrierError(Exception):
    """The carrier refused or could not be reached.

    ``transient`` errors (timeouts, 429, 5xx, connection refused) may be retried;
    the others are final, with the carrier's ``code`` (21610: the recipient unsubscribed).
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.transient = transient


class Carrier(Protocol):
    """A carrier that sends SMS and answers questions about what it sent."""

    def send(self, *, to: str, from_: str, body: str, status_callback: str) -> CarrierMessage:
        """Hand a message to the carrier; raise ``CarrierError`` when it refuses."""

    def fetch(self, sid: str) -> CarrierMessage | None:
        """Return the carrier's message ``sid``, or ``None`` if it has none."""

    def find(self, *, to: str, from_: str, sent_after: datetime) -> list[CarrierMessage]:
        """Return the messages sent from ``from_`` to ``to`` since ``sent_after``."""
