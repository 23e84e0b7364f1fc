"""Host events (``customer_saved``, ``appointment_changed``, ``invoice_printed``), fired
after the commit.

A model opts in with a ``host_event(changes, created)`` method that returns the
hook name and its keyword arguments, or ``None``. Flushes record the events in
the session; a commit fires them once, a rollback forgets them (a savepoint's
rollback forgets only what was flushed inside it).
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
        super().commit()
        recorded = self.info.pop(PENDING, None)
        saved = self.info.pop(SAVED, set())
        if recorded:
            fire(merge(recorded, saved), self)

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


def fire(pending: list, session: Session) -> None:
    """Call each pending event's hook; a failing plugin is logged, never undoes the commit.

    ``session`` is the session that committed: a failing plugin may have left it in a
    failed transaction, which is rolled back so that the next plugin can use it.
    """
    pm = current_app.extensions.get("plugin_manager")
    if pm is None:
        return
    for obj, changes, created in pending:
        found = obj.host_event(changes=changes, created=created)
        if not found:
            continue
        hook_name, kwargs = found
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
