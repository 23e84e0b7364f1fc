"""The SMS module's data: messages and their history, consent ledger, opt-out list,
API tokens and the operator's price."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from host.extensions import db
from host.models import UTCDateTime, utcnow
from plugins.sms_module.statuses import Status


def _enum(cls, length: int = 20) -> Enum:
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class Queue(enum.StrEnum):
    TRANSACTIONAL = "transactional"
    PROMOTIONAL = "promotional"


class ConsentMethod(enum.StrEnum):
    PAPER = "paper"  # a signed physical document
    ELECTRONIC = "electronic"  # e.g. a signed invoice mention or a web form
    ORAL = "oral"  # allowed, but flagged as discouraged


class ConsentKind(enum.StrEnum):
    GIVEN = "given"
    WITHDRAWN = "withdrawn"
    DISCLAIMER_SENT = "disclaimer_sent"


class OptOutAction(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


class SmsMessage(db.Model):
    """One SMS, outbound or inbound, with its status and why it failed."""

    __tablename__ = "sms_message"
    __table_args__ = (
        Index("ix_sms_message_status_send_at", "status", "send_at"),
        # The sweeper looks for replies whose forward has not run, every second.
        Index("ix_sms_message_direction_forwarded_at", "direction", "forwarded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8), default="outbound")
    kind: Mapped[str] = mapped_column(String(40), default="manual")
    phone: Mapped[str] = mapped_column(String(20), index=True)
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
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Inbound only: when staff opened its conversation, and when it was forwarded (§9).
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Outbound only: the marketing campaign it belongs to (promotional queue, §7).
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("sms_campaign.id"), index=True)

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


class ConsentEvent(db.Model):
    """An append-only line of the consent ledger: consent given, withdrawn, disclaimer sent."""

    __tablename__ = "sms_consent_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[ConsentKind] = mapped_column(_enum(ConsentKind))
    method: Mapped[ConsentMethod | None] = mapped_column(_enum(ConsentMethod))
    obtained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reference: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by = relationship("User")


class OptOut(db.Model):
    """A phone number on the platform-wide opt-out list; opting in archives the row."""

    __tablename__ = "sms_opt_out"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OptOutEvent(db.Model):
    """One opt-out or opt-in of a phone, with what was said, where and when."""

    __tablename__ = "sms_opt_out_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    action: Mapped[OptOutAction] = mapped_column(_enum(OptOutAction))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    raw_message: Mapped[str | None] = mapped_column(Text)
    # sms_keyword | provider_error | staff | api
    source: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(db.Model):
    """A shop's REST API token; only its SHA-256 is stored."""

    __tablename__ = "sms_api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlatformSettings(db.Model):
    """The operator's settings for every shop (one row): price per segment."""

    __tablename__ = "sms_platform_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    price_per_segment: Mapped[Decimal] = mapped_column(Numeric(10, 5))
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


@event.listens_for(ConsentEvent, "before_update")
@event.listens_for(ConsentEvent, "before_delete")
@event.listens_for(OptOutEvent, "before_update")
@event.listens_for(OptOutEvent, "before_delete")
@event.listens_for(SmsStatusChange, "before_update")
def _append_only(mapper, connection, target) -> None:
    raise AppendOnlyError(f"{type(target).__name__} rows are append-only: add a new row instead.")


class AppendOnlyError(RuntimeError):
    """A ledger row was about to be changed or deleted."""


class SenderNumber(db.Model):
    """A number of a queue's pool, shared by every shop, with its carrier rate."""

    __tablename__ = "sms_sender_number"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    queue: Mapped[Queue] = mapped_column(_enum(Queue))
    # Segments per second the carrier allows this number (1 for US/Canada long codes).
    rate: Mapped[Decimal] = mapped_column(Numeric(8, 3), default=Decimal(1))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Conversation(db.Model):
    """Which pool number a shop's customer phone hears from (sticky sender)."""

    __tablename__ = "sms_conversation"
    __table_args__ = (
        Index("ix_sms_conversation_phone_sender", "phone", "sender_number_id"),
        Index(
            "uq_sms_conversation_company_phone_queue", "company_id", "phone", "queue", unique=True
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    phone: Mapped[str] = mapped_column(String(20))
    queue: Mapped[Queue] = mapped_column(_enum(Queue))
    sender_number_id: Mapped[int] = mapped_column(ForeignKey("sms_sender_number.id"))
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sender_number: Mapped[SenderNumber] = relationship()


class SmsTemplate(db.Model):
    """A shop's own text for one event in one language, and whether the event sends.

    ``body`` None means the built-in default text; "enabled" is per event: the settings
    page writes the same value on both language rows (see ``message_templates``).
    """

    __tablename__ = "sms_template"
    __table_args__ = (
        Index(
            "uq_sms_template_company_event_language",
            "company_id",
            "event",
            "language",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    event: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2))
    body: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class ShopSmsSettings(db.Model):
    """A shop's own SMS choices (one row per shop, created when first saved)."""

    __tablename__ = "sms_shop_settings"

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)
    # How long before an appointment its reminder goes (shop time, never at night).
    reminder_hours_before: Mapped[int] = mapped_column(Integer, default=24)
    # Where customers' replies are forwarded (§9): e-mail addresses, one per line, and/or a
    # cell number (E.164). Neither: replies wait on the reply page.
    forward_emails: Mapped[str | None] = mapped_column(Text)
    forward_phone: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SmsCampaign(db.Model):
    """A shop's marketing campaign (§7, §10): one text sent on the promotional queue to
    every customer of the audience who consented, prepared by a job (``campaigns.py``)."""

    __tablename__ = "sms_campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    # When the messages are due, out of the quiet hours (shop time).
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The time asked for, when the quiet hours moved it (else None).
    requested_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The audience's language ("en" or "fr"); None: every customer.
    language: Mapped[str | None] = mapped_column(String(2))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Fan-out bookkeeping: customers asked, of whom refused, and when it was done.
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    prepared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the fan-out sent nothing, if it did not: module_off | location_missing.
    stopped_code: Mapped[str | None] = mapped_column(String(40))

    company = relationship("Company")
    created_by = relationship("User")
