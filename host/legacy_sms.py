"""The previous SMS module's "Sent SMS log": imported, read-only, still reported.

Its rows carry typed values (issue 12, points 1 and 2), which the report page shows as
people read the rest of the site (the moment in the shop's time, in UTC and named for the
operator, who sees every shop; the status and the columns by their words in the reader's
language; the phone as it is written) and the CSV as before (ISO 8601, the stored codes).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from host.extension_points import Report
from host.extensions import db
from host.models import LegacySmsLog
from host.phones import format_phone

# The statuses the previous module wrote, as people read them.
STATUS_LABELS = {
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "undelivered": _l("Undelivered"),
    "failed": _l("Failed"),
}


class Labelled(str):
    """A value as stored (``str``: what the CSV writes) with the ``label`` people read."""

    label: object

    def __new__(cls, value: str, label: object) -> Labelled:
        labelled = super().__new__(cls, value)
        labelled.label = label
        return labelled


COLUMNS = (
    Labelled("sent_at", _l("Sent at")),
    Labelled("phone", _l("Phone")),
    Labelled("status", _l("Status")),
    Labelled("body", _l("Text")),
)


def status_label(status: str | None) -> str:
    """Return a status of the previous module as people read it (an unknown one as is)."""
    return str(STATUS_LABELS.get((status or "").strip().lower(), status or ""))


def sent_sms_log_rows(company, filters: Mapping[str, str]):
    """Yield the previous module's sent messages of ``company`` (all shops for ``None``):
    (when: an aware datetime; phone; status, with its label; text)."""
    query = select(LegacySmsLog).order_by(LegacySmsLog.sent_at.desc())
    if company is not None:
        query = query.where(LegacySmsLog.company_id == company.id)
    if phone := (filters.get("phone") or "").strip():
        query = query.where(LegacySmsLog.phone.contains(phone, autoescape=True))  # % _ typed
    for row in db.session.scalars(query.limit(10_000)):
        status = row.status or ""
        yield (
            row.sent_at,
            Labelled(row.phone, format_phone(row.phone)),
            Labelled(status, status_label(status)),
            row.body,
        )


def sent_sms_log_report() -> Report:
    """Describe the previous module's Sent SMS log report."""
    return Report(
        name="legacy_sent_sms_log",
        title=_l("Sent SMS log (previous SMS module)"),
        columns=COLUMNS,
        rows=sent_sms_log_rows,
        description=_l("Messages sent with the previous SMS module, before the new one."),
        filters=("phone",),
    )
