"""Host events (``customer_saved``, ``appointment_changed``, ``invoice_printed``), fired
after the commit.

A model opts in with a ``host_event(changes, created)`` method that returns the
hook name and its keyword arguments, or ``None``. Flushes record the events in
the session; a commit fires them once, a rollback forgets them.
"""

from __future__ import annotations

import logging

from flask import current_app
from flask_sqlalchemy.session import Session
from sqlalchemy import event, inspect

log = logging.getLogger(__name__)

PENDING = "host.pending_events"


def column_changes(obj) -> dict:
    """Map each changed column attribute of ``obj`` to ``(old, new)``."""
    changes = {}
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.added or hist.deleted:
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old != new:
                changes[attr.key] = (old, new)
    return changes


class EventSession(Session):
    """A session that fires the host's events after a successful commit."""

    def commit(self) -> None:
        super().commit()
        pending = self.info.pop(PENDING, None)
        if pending:
            fire(list(pending.values()))

    def close(self) -> None:
        self.info.pop(PENDING, None)
        super().close()


def fire(pending: list) -> None:
    """Call each pending event's hook; a failing plugin is logged, never undoes the commit."""
    pm = current_app.extensions.get("plugin_manager")
    if pm is None:
        return
    for obj, changes, created in pending:
        found = obj.host_event(changes=changes, created=created)
        if not found:
            continue
        hook_name, kwargs = found
        try:
            getattr(pm.hook, hook_name)(**kwargs)
        except Exception:
            log.exception("plugin failed on %s for %r", hook_name, obj)
            from host.extensions import db

            db.session.rollback()


@event.listens_for(EventSession, "after_flush")
def _record(session, flush_context) -> None:
    pending = session.info.setdefault(PENDING, {})
    for obj in list(session.new) + list(session.dirty):
        if not hasattr(obj, "host_event"):
            continue
        created = obj in session.new
        changes = column_changes(obj)
        if not changes and not created:
            continue
        key = id(obj)
        if key in pending:
            _, earlier, was_created = pending[key]
            for name, (old, new) in changes.items():
                first_old = earlier.get(name, (old, new))[0]
                earlier[name] = (first_old, new)
            pending[key] = (obj, earlier, was_created or created)
        else:
            pending[key] = (obj, changes, created)


@event.listens_for(EventSession, "after_rollback")
def _forget(session) -> None:
    session.info.pop(PENDING, None)
