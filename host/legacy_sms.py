"""The previous SMS module's "Sent SMS log": imported, read-only, still reported.

Its rows are read as people read the rest of the site (issue 12, point 2): the moment in the
shop's time (in UTC, named, for the operator, who sees every shop), the status as a word in
the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from host.extension_points import Report
from host.extensions import db
from host.models import LegacySmsLog
from host.templating import localtime

# The statuses the previous module wrote, as people read them.
STATUS_LABELS = {
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "undelivered": _l("Undelivered"),
    "failed": _l("Failed"),
}


def status_label(status: str | None) -> str:
    """Return a status of the previous module as people read it (an unknown one as is)."""
    return str(STATUS_LABELS.get((status or "").strip().lower(), status or ""))


def sent_sms_log_rows(company, filters: Mapping[str, str]):
    """Yield the previous module's sent messages of ``company`` (all shops for ``None``):
    (when, in the shop's time; phone; status label; text)."""
    query = select(LegacySmsLog).order_by(LegacySmsLog.sent_at.desc())
    if company is not None:
        query = query.where(LegacySmsLog.company_id == company.id)
    if phone := (filters.get("phone") or "").strip():
        query = query.where(LegacySmsLog.phone.contains(phone))
    for row in db.session.scalars(query.limit(10_000)):
        yield (localtime(row.sent_at, company), row.phone, status_label(row.status), row.body)


def sent_sms_log_report() -> Report:
    """Describe the previous module's Sent SMS log report."""
    return Report(
        name="legacy_sent_sms_log",
        title=_l("Sent SMS log (previous SMS module)"),
        columns=("sent_at", "phone", "status", "body"),
        rows=sent_sms_log_rows,
        description=_l("Messages sent with the previous SMS module, before the new one."),
        filters=("phone",),
    )
