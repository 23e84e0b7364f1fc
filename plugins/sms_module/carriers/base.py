"""What the sending pipeline needs from a carrier, whichever one answers: Twilio
(``twilio``) or the built-in simulator (``simulator``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True)
class CarrierMessage:
    """The carrier's view of one message. ``body`` is the text as the carrier keeps it;
    ``date_created`` when the carrier recorded it, ``date_sent`` when it sent it on (``None``
    while the carrier still holds it), both aware, in UTC, to the second at Twilio."""

    sid: str
    status: str  # the carrier's own status word, e.g. "queued", "delivered"
    to: str
    from_: str
    error_code: int | None = None
    error_message: str | None = None
    date_created: datetime | None = None
    body: str | None = None
    date_sent: datetime | None = None


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

    def find(self, *, to: str, from_: str, created_after: datetime) -> list[CarrierMessage]:
        """Return the messages from ``from_`` to ``to`` the carrier recorded since
        ``created_after``, those it still holds (not sent on yet) included."""

    def list_sent(self, day: date) -> Iterator[list[CarrierMessage]]:
        """Yield, a page per request, the messages the carrier sent on the UTC ``day``
        (every number of the account, inbound included); raise ``CarrierError``."""
