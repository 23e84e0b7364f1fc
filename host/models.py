"""The host's data: shops, users, customers, appointments, invoices, options, legacy SMS log."""

from __future__ import annotations

import enum
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from host.extensions import db
from host.regions import time_zone


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A time stored in UTC and always read back time-zone aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        # A naive time is taken as UTC, the zone every stored time is in.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Role(enum.StrEnum):
    OPERATOR = "operator"
    ADMIN = "admin"
    STAFF = "staff"


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Company(db.Model):
    """A shop."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    v2v_number: Mapped[str | None] = mapped_column(String(50))
    country: Mapped[str | None] = mapped_column(String(2))
    province: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(2), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def time_zone(self) -> str | None:
        """The IANA name of the shop's zone, from its country and province (None: unknown)."""
        return time_zone(self.country, self.province)

    @property
    def zone(self) -> ZoneInfo:
        """The shop's time zone: shop time everywhere (UTC until its province is known)."""
        return ZoneInfo(self.time_zone or "UTC")

    def __repr__(self) -> str:
        return f"<Company {self.id} {self.name!r}>"


def shop_zone(company: Company | None) -> ZoneInfo:
    """Return ``company``'s time zone; UTC for no shop (the operator) or an unknown province."""
    return company.zone if company is not None else ZoneInfo("UTC")


class User(UserMixin, db.Model):
    """A person who logs in: an operator (no shop), a shop administrator or staff."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the session's user id (``get_id``): raising it ends every session of the user
    # (logging out, a new password), as Flask-Login's "alternative tokens" advise.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    company: Mapped[Company | None] = relationship()

    def set_password(self, password: str) -> None:
        """Store ``password`` hashed and end every session of the user."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """End every session of the user (their cookies name an older version)."""
        self.session_version = (self.session_version or 0) + 1

    @validates("active")
    def _active_changed(self, _key: str, active: bool) -> bool:
        """Any change of ``active`` (deactivating, reactivating) ends the user's sessions,
        wherever it is made (the users page, a command, the API): reactivating someone never
        brings back the browsers they were logged in on before (issue 13)."""
        if self.id is not None and bool(active) != bool(self.active):
            self.end_sessions()
        return active

    def get_id(self) -> str:
        """The session's user id, ``"<id>:<session version>"`` (``auth.load_user`` reads it)."""
        return f"{self.id}:{self.session_version or 0}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active


def search_fold(text: str | None) -> str:
    """Return ``text`` as customer search compares it: accents removed (NFKD, combining marks
    dropped), case folded, runs of white space made one space: "Côté" -> "cote"
    (issue 12 point 5). The same on SQLite and PostgreSQL, since Python does it."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


class Customer(db.Model):
    """A shop's customer."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    mobile_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "first last email phone" through ``search_fold``, what the customer search looks in;
    # kept by every flush (``_keep_search_text``), filled for older rows by migration
    # d12a0c0d0e01 (issue 12 point 5).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    company: Mapped[Company] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def folded_search_text(self) -> str:
        """Return what ``search_text`` should hold for the customer's current values."""
        parts = (self.first_name, self.last_name, self.email, self.mobile_phone)
        return search_fold(" ".join(p for p in parts if p))

    def host_event(self, changes: dict, created: bool):
        # The search column follows the other columns: no change of the customer itself.
        changes = {k: v for k, v in changes.items() if k != "search_text"}
        return "customer_saved", {"customer": self, "changes": changes, "created": created}


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _keep_search_text(_mapper, _connection, customer: Customer) -> None:
    """Refresh ``search_text`` from the customer's names, e-mail and phone at each flush."""
    folded = customer.folded_search_text()
    if customer.search_text != folded:
        customer.search_text = folded


class Appointment(db.Model):
    """A booked visit of a customer's vehicle."""

    __tablename__ = "appointment"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    vehicle: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[AppointmentStatus] = mapped_column(
        Enum(AppointmentStatus, native_enum=False, length=20), default=AppointmentStatus.BOOKED
    )

    customer: Mapped[Customer] = relationship()
    company: Mapped[Company] = relationship()

    def host_event(self, changes: dict, created: bool):
        return "appointment_changed", {
            "appointment": self,
            "changes": changes,
            "created": created,
        }


class Invoice(db.Model):
    """A customer's invoice; each print fires ``invoice_printed``."""

    __tablename__ = "invoice"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    print_count: Mapped[int] = mapped_column(Integer, default=0)

    customer: Mapped[Customer] = relationship()
    company: Mapped[Company] = relationship()

    def host_event(self, changes: dict, created: bool):
        if "print_count" in changes and (changes["print_count"][1] or 0) > 0:
            return "invoice_printed", {"invoice": self}
        return None


class CompanyOption(db.Model):
    """A numbered option switched on or off for a shop."""

    __tablename__ = "company_option"

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class LegacySmsLog(db.Model):
    """An SMS sent by the previous SMS module: imported, read-only."""

    __tablename__ = "legacy_sms_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))


def option_enabled(company_id: int, number: int) -> bool:
    """Tell whether option ``number`` is on for shop ``company_id``."""
    row = db.session.get(CompanyOption, (company_id, number))
    return bool(row and row.enabled)


def option_enabled_sql(company_id, number: int):
    """Return ``option_enabled`` as an SQL boolean expression, for a plugin that reads it
    in the same statement as other facts: true when option ``number`` is on for the shop
    ``company_id`` (a column or a bound parameter), false when it is off or was never set."""
    enabled = (
        select(CompanyOption.enabled)
        .where(CompanyOption.company_id == company_id, CompanyOption.number == number)
        .scalar_subquery()
    )
    return func.coalesce(enabled, false())
