"""Messages, outbound and inbound, and the history of their statuses (PRODUCT.md §6)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Double, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from host.api import UTCDateTime, db, utcnow
from plugins.sms_module.models.codes import Direction, Kind
from plugins.sms_module.models.columns import enum_column as _enum
from plugins.sms_module.models.statuses import Status


class Queue(enum.StrEnum):
    TRANSACTIONAL = "transactional"
    PROMOTIONAL = "promotional"


# The waiting statuses the fair order covers (``sending.fairness.WAITING``), as SQL.
FAIR_WAITING = "status IN ('queued', 'scheduled')"


class SmsMessage(db.Model):
    """One SMS, outbound or inbound, with its status and why it failed."""

    __tablename__ = "sms_message"
    __table_args__ = (
        Index("ix_sms_message_status_send_at", "status", "send_at"),
        # The sweeper looks for replies whose forward has not run, every second.
        Index("ix_sms_message_direction_forwarded_at", "direction", "forwarded_at"),
        # The status fetch looks for Sent messages by the age of their acceptance (issue 15).
        Index("ix_sms_message_status_updated_at", "status", "updated_at"),
        # A reply's routing: the last message to a phone from a number, one index step back.
        Index("ix_sms_message_phone_sender_number_id", "phone", "sender_number", "id"),
        # Fair sending (issue 14): waiting messages in their turn's order, and the due ones
        # still to be given their turn (``sending.fairness``).
        Index(
            "ix_sms_message_fair_order",
            "queue",
            "fair_tag",
            "id",
            postgresql_where=text(FAIR_WAITING + " AND fair_tag IS NOT NULL"),
            sqlite_where=text(FAIR_WAITING + " AND fair_tag IS NOT NULL"),
        ),
        Index(
            "ix_sms_message_fair_untagged",
            "queue",
            "send_at",
            postgresql_where=text(FAIR_WAITING + " AND fair_tag IS NULL"),
            sqlite_where=text(FAIR_WAITING + " AND fair_tag IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: ix_sms_message_report_shop (company_id, created_at, …) leads with it.
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8), default=Direction.OUTBOUND)
    kind: Mapped[str] = mapped_column(String(40), default=Kind.MANUAL)
    # No index of its own: ix_sms_message_phone_sender_number_id leads with it.
    phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    queue: Mapped[Queue] = mapped_column(_enum(Queue), default=Queue.TRANSACTIONAL)
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.ACCEPTED)
    failure_code: Mapped[str | None] = mapped_column(String(40))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    sender_number: Mapped[str | None] = mapped_column(String(20))
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    encoding: Mapped[str] = mapped_column(String(8), default="GSM-7")
    price_per_segment: Mapped[Decimal] = mapped_column(Numeric(10, 5), default=Decimal(0))
    price: Mapped[Decimal] = mapped_column(Numeric(12, 5), default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="CAD")
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Its turn on its sender number once due: a virtual send time in seconds, given by
    # ``sending.fairness`` (issue 14, point 1); NULL until due, cleared when it must wait.
    fair_tag: Mapped[float | None] = mapped_column(Double)
    # When the latest delivery attempt began (committed with its Sending): the carrier's
    # record of the message is looked for near it (``sending.carrier_match``; issue 15).
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the carrier was last asked for the status of this Sent message (``status_fetch``).
    status_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Reconciliation could not tell this message's carrier record from another message's:
    # since when it waits, and when the wait was flagged to the operator (issue 15, point 2).
    reconcile_wait_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reconcile_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # SHA-256 of what an API request with an Idempotency-Key asked: a replay must match it.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Inbound only: when staff opened its conversation, and when it was forwarded (§9).
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Inbound only: when its forward by e-mail was given up on, and why (a short code,
    # ``conversations.mail_jobs``: "smtp_timeout"…); forwarded_at stays empty (issue 15).
    forward_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forward_error: Mapped[str | None] = mapped_column(String(40))
    # Outbound only: the marketing campaign it belongs to (promotional queue, §7).
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("sms_campaign.id"), index=True)
    # What keeps a scheduled message true (PRODUCT.md §10; ``compliance.guards``): the
    # appointment it is about, the start time its text states, the condition (a ``Guard``),
    # and the moment after which it is useless; a message past it is Canceled, never sent.
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), index=True)
    appointment_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    guard: Mapped[str | None] = mapped_column(String(20))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    company = relationship("Company")
    customer = relationship("Customer")
    history: Mapped[list[SmsStatusChange]] = relationship(
        back_populates="message", order_by="SmsStatusChange.id", cascade="all, delete-orphan"
    )

    @property
    def cost(self) -> Decimal:
        """What the message costs: its price for every delivery attempt."""
        return self.price * self.attempts


class SmsStatusChange(db.Model):
    """One step of a message's status history."""

    __tablename__ = "sms_status_change"
    # The operator's figures look up recent steps by status and time.
    __table_args__ = (Index("ix_sms_status_change_status_at", "status", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("sms_message.id"), index=True)
    status: Mapped[Status] = mapped_column(_enum(Status))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # module | provider_callback | reconciliation | staff | api
    source: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str | None] = mapped_column(Text)

    message: Mapped[SmsMessage] = relationship(back_populates="history")
