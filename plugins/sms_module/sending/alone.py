"""One SQL statement that is its own transaction (issue 14, point 5).

A webhook's whole write is one statement on PostgreSQL (``report_moves``,
``conversations.inbound_store``): run with the driver in autocommit, it costs one round
trip to the database, where ``BEGIN`` … ``COMMIT`` around it would cost three. The
statement is atomic by itself and committed, durably (the server's ``synchronous_commit``
as for every transaction), before the answer goes back to the carrier.
"""

from __future__ import annotations

from sqlalchemy import Row

from host.api import db


def may_run_alone() -> bool:
    """Tell whether a statement may be its own transaction now: PostgreSQL, and no
    transaction of the request's session open (its writes would not be in it)."""
    if db.engine.dialect.name != "postgresql":
        return False
    return not db.session.registry.has() or not db.session().in_transaction()


def commit() -> None:
    """Commit the request's session if it was opened (a statement run alone opens none)."""
    if db.session.registry.has():
        db.session.commit()


def run_alone(statement, params: dict) -> Row | None:
    """Execute ``statement`` (a Core statement: SQLAlchemy's compiled cache and events
    apply) with ``params`` as a transaction of its own on a pooled connection, the driver in
    autocommit; return its first row. PostgreSQL only (``may_run_alone``)."""
    with db.engine.connect() as connection:
        driver = connection.connection.driver_connection
        driver.autocommit = True
        try:
            return connection.execute(statement, params).first()
        finally:
            driver.autocommit = False


def first_row(statement, params: dict, alone: bool = True) -> Row | None:
    """Execute ``statement`` with ``params`` on PostgreSQL and return its first row: as a
    transaction of its own when ``alone`` and no transaction of the session is open
    (``run_alone``), else in the session's transaction, which the caller commits."""
    if alone and may_run_alone():
        return run_alone(statement, params)
    return db.session.connection().execute(statement, params).first()
