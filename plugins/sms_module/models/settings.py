"""What the operator and each shop set: price, API tokens, templates, reply forwarding."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from host.api import UTCDateTime, db, utcnow


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


class SmsTemplate(db.Model):
    """A shop's own text for one event in one language, and whether the event sends.

    ``body`` None means the built-in default text; "enabled" is per event: the settings
    page writes the same value on both language rows (see ``texts.templates``).
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
    # The number the answer to HELP gives customers to call (E.164; CTIA: HELP names a
    # contact). None: the platform's ``SMS_HELP_PHONE``, if set.
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
