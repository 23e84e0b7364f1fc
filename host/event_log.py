"""The host's event log: one ``host_event`` row for every event the host fires
(``customer_saved``, ``appointment_changed``, ``invoice_printed``), written in the
transaction of the save that caused it (issue 15, point 1).

The row is the event's outbox: it is committed with the save or rolled back with it, so a
plugin that lost the hook's call (Redis away when it enqueued its job, a process killed
after the commit) finds the event again with its own sweeper, by ``occurred_at``. Its id is
the event's id (the hooks' ``event_id``). Rows are kept ``HOST_EVENT_KEEP_DAYS`` days
(default 7), then deleted by the host's periodic task ``host-event-prune``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import JSON, Boolean, Integer, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from host import events
from host.extensions import db
from host.models import UTCDateTime, utcnow

# The hooks a plugin's sweeper may look for in the log.
HOOKS = ("customer_saved", "appointment_changed", "invoice_printed")
DEFAULT_KEEP_DAYS = 7


class HostEvent(db.Model):
    """A committed host event: which hook, about which row, what changed, when."""

    __tablename__ = "host_event"
    # AUTOINCREMENT on SQLite: an id is never given again after the newest rows are pruned,
    # so an event id stays unique for ever (plugins key their work by it).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The hook fired: one of ``HOOKS``.
    hook: Mapped[str] = mapped_column(String(40))
    # The id of the customer, appointment or invoice the event is about.
    target_id: Mapped[int] = mapped_column(Integer)
    company_id: Mapped[int | None] = mapped_column(Integer)
    # The names of the changed columns, sorted (the hook's ``changes`` keys).
    changes: Mapped[list] = mapped_column(JSON, default=list)
    created: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<HostEvent {self.id} {self.hook} {self.target_id}>"


def event_row(obj, hook: str, changes: dict, created: bool) -> HostEvent:
    """Return (not add) the log row of ``obj``'s event ``hook``; ``changes`` maps the
    changed columns to ``(old, new)``, of which only the names are kept."""
    return HostEvent(
        hook=hook,
        target_id=obj.id,
        company_id=getattr(obj, "company_id", None),
        changes=sorted(changes),
        created=bool(created),
        occurred_at=utcnow(),
    )


def prune(now: datetime | None = None) -> int:
    """Delete the events older than ``HOST_EVENT_KEEP_DAYS`` days (config, default 7);
    commit and return how many went. The host's periodic task ``host-event-prune``."""
    days = current_app.config.get("HOST_EVENT_KEEP_DAYS", DEFAULT_KEEP_DAYS)
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = db.session.execute(delete(HostEvent).where(HostEvent.occurred_at < cutoff))
    db.session.commit()
    return result.rowcount or 0


events.LOG_ROW[:] = [event_row]  # what EventSession.commit writes each event with
