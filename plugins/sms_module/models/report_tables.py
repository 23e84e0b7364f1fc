"""What the SMS reports read instead of every message (PRODUCT.md §11; issue 14, point 2).

The figures of the status, cost, delivery and error-code reports are kept as *summary rows*
per day, and the inbox's order as one row per conversation, by the database itself:
triggers on ``sms_message`` and ``sms_status_change`` (``report_sql``) write them in the
same transaction as every insert or change, whichever code made it (the ORM, a bulk
insert, a seed). The triggers only ever *append* deltas (``SmsReportDelta``): no row is
shared by two writers, so a status change never waits on another shop's. A periodic task
folds the deltas into ``SmsReportDay`` (``report_rebuild.compact``); readers add the two.

Rows of ``SmsReportDay`` and ``SmsReportDelta`` (the same columns):

- ``view`` 1: a shop's figures by the days of its own time zone (``company_id`` the shop);
  ``view`` 2: the platform's by UTC day, every shop together (``company_id`` 0), and, with
  ``status`` "", each shop's charges (the operator's cost report names the shop);
- ``bucket`` -1: outbound messages counted by ``status`` as reported ("refused" for a
  refusal, ``statuses.is_refusal``) and ``code`` (the failure code of an undelivered or
  failed message, "" otherwise), with what was charged (every attempt, §8), the last
  failure time and an example reason; ``bucket`` ≥ 0: deliveries timed, the
  time to delivery in seconds within ``[low, high]`` (``report_sql.delay_bucket``).

Also the indexes the report pages read in order: the message log newest first per shop
and for the operator, the consent register by entry per shop, the opt-out register by time.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Double, Index, Integer, Numeric, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from host.api import UTCDateTime, db
from plugins.sms_module.models.compliance import ConsentEvent, OptOutEvent
from plugins.sms_module.models.messages import SmsMessage

SHOP_VIEW = 1  # a shop's own days
PLATFORM_VIEW = 2  # UTC days
EVERY_SHOP = 0  # ``company_id`` of the platform's rows, and the owner of unrouted replies
COUNTS = -1  # ``bucket`` of the rows that count messages


class _Figures:
    """The key and the figures every summary row has (see the module)."""

    view: Mapped[int] = mapped_column(SmallInteger)
    company_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    queue: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    bucket: Mapped[int] = mapped_column(SmallInteger)
    messages: Mapped[int] = mapped_column(Integer)  # messages, or deliveries timed
    charged: Mapped[int] = mapped_column(Integer)  # messages with an attempt (§8)
    attempts: Mapped[int] = mapped_column(Integer)
    segments: Mapped[int] = mapped_column(Integer)  # segments × attempts
    cost: Mapped[Decimal] = mapped_column(Numeric(18, 5))  # price × attempts
    low: Mapped[float | None] = mapped_column(Double)  # seconds to delivery, bucket ≥ 0
    high: Mapped[float | None] = mapped_column(Double)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last failure
    reason: Mapped[str | None] = mapped_column(Text)  # a failure reason (the greatest)


KEY = ("view", "company_id", "bucket", "day", "queue", "status", "code", "currency")
SUMS = ("messages", "charged", "attempts", "segments", "cost")
FIGURES = (*SUMS, "low", "high", "last_at", "reason")


class SmsReportDay(_Figures, db.Model):
    """The folded summary: one row per key (``KEY``)."""

    __tablename__ = "sms_report_day"

    view: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    queue: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)


class SmsReportDelta(_Figures, db.Model):
    """A change the triggers appended, not yet folded into ``SmsReportDay``."""

    __tablename__ = "sms_report_delta"

    id: Mapped[int] = mapped_column(primary_key=True)


class SmsReportConversation(db.Model):
    """The inbox's order (PRODUCT.md §9): for each phone that replied, per owner (the shop,
    ``EVERY_SHOP`` for the replies no shop's conversation took), the id of the last message
    either side said (``views.inbox.said``)."""

    __tablename__ = "sms_report_conversation"
    __table_args__ = (Index("ix_sms_report_conversation_owner_last_id", "owner", "last_id"),)

    owner: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)


class SmsReportRegion(db.Model):
    """The time zone of each country and province the shops are in (``Company.zone``), for
    the triggers to count a shop's days in its zone."""

    __tablename__ = "sms_report_region"

    country_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64))


class SmsReportShop(db.Model):
    """The zone a shop's summary rows were counted in: a shop that moved to another zone
    has its days counted again (``report_rebuild.repair_shop``)."""

    __tablename__ = "sms_report_shop"

    company_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone: Mapped[str] = mapped_column(String(64))


m = SmsMessage
# The message log, newest first, per shop and for the operator; the filters on status,
# queue and direction are read from the index as it is walked.
Index(
    "ix_sms_message_report_shop",
    m.company_id,
    m.created_at,
    m.id,
    m.status,
    m.queue,
    m.direction,
)
Index("ix_sms_message_report_all", m.created_at, m.id, m.status, m.queue, m.direction)
# The Sent messages, by the age of their last change: those long without a delivery report
# are counted apart (§6), read from this small index alone.
SENT = "status = 'sent'"
Index(
    "ix_sms_message_report_sent",
    m.company_id,
    m.updated_at,
    m.created_at,
    m.queue,
    m.direction,
    postgresql_where=text(SENT),
    sqlite_where=text(SENT),
)
# The consent register by entry, per shop; the opt-out register newest first.
Index("ix_sms_consent_event_report", ConsentEvent.company_id, ConsentEvent.id)
Index("ix_sms_opt_out_event_report", OptOutEvent.at, OptOutEvent.id)
del m
