"""The consent ledger and the platform-wide opt-out list (PRODUCT.md §4, §5): append-only."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from host.api import UTCDateTime, db, utcnow
from plugins.sms_module.models.columns import enum_column as _enum
from plugins.sms_module.models.messages import SmsStatusChange


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


@event.listens_for(ConsentEvent, "before_update")
@event.listens_for(ConsentEvent, "before_delete")
@event.listens_for(OptOutEvent, "before_update")
@event.listens_for(OptOutEvent, "before_delete")
@event.listens_for(SmsStatusChange, "before_update")
def _append_only(mapper, connection, target) -> None:
    raise AppendOnlyError(f"{type(target).__name__} rows are append-only: add a new row instead.")


class AppendOnlyError(RuntimeError):
    """A ledger row was about to be changed or deleted."""
