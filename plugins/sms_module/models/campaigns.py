"""A shop's marketing campaigns (PRODUCT.md §7, §10) and the steps of their life."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from host.api import UTCDateTime, db, utcnow


class CampaignStatus(enum.StrEnum):
    """Where a campaign is (issue 11: a campaign a shop can stop).

    ``DRAFT``: saved from the form, shown for review (audience, text per language, cost);
    nothing goes. ``CONFIRMED``: the shop confirmed it; its fan-out waits for the send time.
    ``SENDING``: its fan-out started (it asks the send service for each customer); it is done
    once every message has left. ``CANCELED``: the shop stopped it; what had not left was
    Canceled. A campaign made by code, not by the review page, is confirmed as made.
    """

    DRAFT = "draft"
    CONFIRMED = "confirmed"
    SENDING = "sending"
    CANCELED = "canceled"


# Where every field may still change (it returns to draft, to be reviewed again), and where
# only the texts may (rewriting the messages that have not left); see ``campaigns.control``.
EDITABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.CONFIRMED})
CANCELABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.CONFIRMED, CampaignStatus.SENDING})


class SmsCampaign(db.Model):
    """A shop's marketing campaign (§7, §10): one text, with its French version if the shop
    wrote one, sent on the promotional queue to every customer of the audience who
    consented, prepared by a job (``campaigns.fanout``)."""

    __tablename__ = "sms_campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The text as the shop wrote it, without the shop's name and how to unsubscribe, which
    # every message gets in its customer's language (``texts.commercial``). ``body`` goes to
    # every customer but those who read French when ``body_fr`` is written.
    body: Mapped[str] = mapped_column(Text)
    body_fr: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=CampaignStatus.CONFIRMED)
    # When the messages are due, out of the quiet hours (shop time).
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The time asked for, when the quiet hours moved it (else None).
    requested_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The audience's language ("en" or "fr"); None: every customer.
    language: Mapped[str | None] = mapped_column(String(2))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    canceled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Fan-out bookkeeping: customers asked, of whom refused, and when it was done.
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    prepared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the fan-out sent nothing, if it did not: module_off | location_missing.
    stopped_code: Mapped[str | None] = mapped_column(String(40))

    company = relationship("Company")
    created_by = relationship("User", foreign_keys=[created_by_id])
