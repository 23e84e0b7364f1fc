"""The daily comparison of our messages with the carrier's list (issue 15, point 3)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from host.api import UTCDateTime, db, utcnow


class SmsCarrierAudit(db.Model):
    """One UTC day's messages compared with the carrier's record of that day
    (``sending.carrier_audit``): one row a day, written once the comparison is done."""

    __tablename__ = "sms_carrier_audit"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Our outbound messages of the day that have a carrier SID, all compared.
    checked: Mapped[int] = mapped_column(Integer, default=0)
    # The carrier's messages of the day from our sender numbers.
    carrier_listed: Mapped[int] = mapped_column(Integer, default=0)
    # Ours with a SID the carrier does not have, even when fetched one by one.
    missing_at_carrier: Mapped[int] = mapped_column(Integer, default=0)
    # The carrier's, from our numbers, that no message claims and none could be matched to.
    unknown_at_carrier: Mapped[int] = mapped_column(Integer, default=0)
    # The carrier's that no message claimed, each matched to a message left in Sending.
    matched: Mapped[int] = mapped_column(Integer, default=0)
    # JSON: {"missing": [message ids], "unknown": [carrier SIDs]}, the first of each.
    details: Mapped[str | None] = mapped_column(Text)
