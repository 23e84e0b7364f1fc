"""A shop's marketing campaigns (PRODUCT.md §7, §10)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from host.api import UTCDateTime, db, utcnow


class SmsCampaign(db.Model):
    """A shop's marketing campaign (§7, §10): one text sent on the promotional queue to
    every customer of the audience who consented, prepared by a job (``campaigns.fanout``)."""

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
