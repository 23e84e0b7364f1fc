"""The previous SMS module's "Sent SMS log": imported, read-only, still reported."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from host.extension_points import Report
from host.extensions import db
from host.models import LegacySmsLog


def sent_sms_log_rows(company, filters: Mapping[str, str]):
    """Yield the previous module's sent messages of ``company`` (all shops for ``None``)."""
    query = select(LegacySmsLog).order_by(LegacySmsLog.sent_at.desc())
    if company is not None:
        query = query.where(LegacySmsLog.company_id == company.id)
    if phone := (filters.get("phone") or "").strip():
        query = query.where(LegacySmsLog.phone.contains(phone))
    for row in db.session.scalars(query.limit(10_000)):
        yield (row.sent_at.isoformat(timespec="seconds"), row.phone, row.status, row.body)


def sent_sms_log_report() -> Report:
    """Describe the previous module's Sent SMS log report."""
    return Report(
        name="legacy_sent_sms_log",
        title="Sent SMS log (previous SMS module)",
        columns=("sent_at", "phone", "status", "body"),
        rows=sent_sms_log_rows,
        description="Messages sent with the previous SMS module, before the new one.",
        filters=("phone",),
    )
