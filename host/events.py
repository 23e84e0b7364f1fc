"""Host events (``customer_saved``, ``appointment_changed``, ``invoice_printed``), fired
after the commit.

A model opts in with a ``host_event(changes, created)`` method that returns the
hook name and its keyword arguments, or ``None``. Flushes record the events in
the session; a commit fires them once, a rollback forgets them (a savepoint's
rollback forgets only what was flushed inside it).

Each event is also written to the event log (``host.event_log.HostEvent``) in the
transaction being committed, just before its commit: the save and its log row are
committed together or not at all, and the hooks get the row's id as ``event_id``
(issue 15, point 1: a plugin that loses the call finds the event again in the log).
"""

from __future__ import annotations

import logging

from flask import current_app
from flask_sqlalchemy.session import Session
from sqlalchemy import event, inspect
from sqlalchemy.orm import SessionTransaction, scoped_session

log = logging.getLogger(__name__)

PENDING = "host.pending_events"
SAVED = "host.saved_objects"
# Makes an event's log row: ``host.event_log.event_row``, which sets it as it is imported
# (it builds on host.extensions, which builds on this module). ``host.app`` imports it.
LOG_ROW: list = []


def mark_saved(session, obj) -> None:
    """Fire ``obj``'s event at the commit even if none of its columns changed.

    A Customer Information save is a save of the customer, also when only a plugin's
    field (such as a loyalty card) changed.
    """
    if isinstance(session, scoped_session):
        session = session()
    session.info.setdefault(SAVED, set()).add(id(obj))
    session.info.setdefault(PENDING, []).append((obj, {}, False, session.get_nested_transaction()))


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
        # What the commit would flush, flushed now: its events are recorded, and their log
        # rows join the transaction before it commits (a failed commit loses both).
        self.flush()
        recorded = self.info.get(PENDING)
        logged = log_events(merge(recorded, self.info.get(SAVED, set())), self) if recorded else []
        super().commit()
        self.info.pop(PENDING, None)
        self.info.pop(SAVED, None)
        if logged:
            fire(logged, self)

    def close(self) -> None:
        self.info.pop(PENDING, None)
        self.info.pop(SAVED, None)
        super().close()


def merge(recorded: list, saved: set[int] = frozenset()) -> list:
    """Fold the flushes of one transaction into one event per object: first old, last new."""
    merged: dict[int, tuple] = {}
    for obj, changes, created, _savepoint in recorded:
        if id(obj) not in merged:
            merged[id(obj)] = (obj, dict(changes), created)
            continue
        _, earlier, was_created = merged[id(obj)]
        for name, (old, new) in changes.items():
            earlier[name] = (earlier.get(name, (old, new))[0], new)
        merged[id(obj)] = (obj, earlier, was_created or created)
    # A column changed and changed back within the transaction did not change.
    folded = [
        (o, {k: v for k, v in c.items() if v[0] != v[1]}, new) for o, c, new in merged.values()
    ]
    return [
        (obj, changes, created)
        for obj, changes, created in folded
        if changes or created or id(obj) in saved
    ]


def log_events(pending: list, session: Session) -> list:
    """Add a ``host_event`` row for each of ``pending``'s events (``merge``'s triples) that
    has a hook, and flush them into the transaction about to commit.

    Return ``(obj, hook name, keyword arguments)`` for each, the arguments carrying
    ``event_id``, the row's id. Raises what the flush raises (the commit then fails whole).
    """
    if not LOG_ROW:
        raise RuntimeError("host.event_log is not imported: events would go unlogged")
    event_row = LOG_ROW[0]
    logged = []
    for obj, changes, created in pending:
        found = obj.host_event(changes=changes, created=created)
        if not found:
            continue
        hook_name, kwargs = found
        row = event_row(obj, hook_name, changes, created)
        session.add(row)
        logged.append((obj, hook_name, kwargs, row))
    if not logged:
        return []
    session.flush()
    return [(obj, hook, {**kwargs, "event_id": row.id}) for obj, hook, kwargs, row in logged]


def fire(logged: list, session: Session) -> None:
    """Call each logged event's hook (``log_events``' triples); a failing plugin is logged,
    never undoes the commit.

    ``session`` is the session that committed: a failing plugin may have left it in a
    failed transaction, which is rolled back so that the next plugin can use it.
    """
    pm = current_app.extensions.get("plugin_manager")
    if pm is None:
        return
    for obj, hook_name, kwargs in logged:
        # One implementation at a time, so that one plugin's failure spares the others.
        for impl in reversed(getattr(pm.hook, hook_name).get_hookimpls()):
            try:
                impl.function(**{name: kwargs[name] for name in impl.argnames})
            except Exception:
                log.exception("plugin %s failed on %s for %r", impl.plugin_name, hook_name, obj)
                session.rollback()


@event.listens_for(EventSession, "after_flush")
def _record(session, flush_context) -> None:
    recorded = session.info.setdefault(PENDING, [])
    savepoint = session.get_nested_transaction()
    for obj in list(session.new) + list(session.dirty):
        if not hasattr(obj, "host_event"):
            continue
        created = obj in session.new
        changes = column_changes(obj)
        if changes or created:
            recorded.append((obj, changes, created, savepoint))


def _inside(savepoint: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is ended:
            return True
        savepoint = savepoint.parent
    return False


@event.listens_for(EventSession, "after_soft_rollback")
def _forget(session, previous_transaction: SessionTransaction) -> None:
    # after_rollback would also fire for a savepoint and forget the outer transaction's events.
    if previous_transaction.nested:
        recorded = session.info.get(PENDING, [])
        recorded[:] = [r for r in recorded if not _inside(r[3], previous_transaction)]
    elif previous_transaction.parent is None:
        session.info.pop(PENDING, None)
        session.info.pop(SAVED, None)
