"""The sender numbers of each queue's pool and the sticky sender of each phone (§7)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from host.api import UTCDateTime, db, utcnow
from plugins.sms_module.models.columns import enum_column as _enum
from plugins.sms_module.models.messages import Queue


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
