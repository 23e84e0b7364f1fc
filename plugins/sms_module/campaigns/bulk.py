"""Rows written in bulk for a campaign's fan-out (issue 14 point 4).

On PostgreSQL a chunk's rows go through ``COPY`` (psycopg's, on the session's own
connection and transaction), their ids reserved from the table's sequence first, in one
statement, so that the history rows can name their message: a few statements per chunk,
and no SQL text of thousands of placeholders for the driver to parse (SQLAlchemy's multi-row
INSERT costs ~0.3 ms a row there). Elsewhere (SQLite), multi-row INSERTs with RETURNING.
A unique key met on the way raises SQLAlchemy's ``IntegrityError``, whichever the path.
Values are given as stored: an enum column's value, not its member.
"""

from __future__ import annotations

from sqlalchemy import Table, insert, text
from sqlalchemy.exc import IntegrityError

from host.api import db


def insert_returning_ids(table: Table, columns: tuple[str, ...], rows: list[tuple]) -> list[int]:
    """Insert ``rows`` (tuples of ``columns``' values) into ``table``; return their ids (in
    no particular order), all greater than the ids of rows inserted before. The caller
    commits."""
    if not rows:
        return []
    if not _copying():
        statement = insert(table).returning(table.c.id)
        return list(db.session.execute(statement, _dicts(columns, rows)).scalars())
    reserve = text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)")
    ids = list(db.session.scalars(reserve, {"t": table.name, "n": len(rows)}))
    _copy(table, ("id", *columns), [(row_id, *row) for row_id, row in zip(ids, rows, strict=True)])
    return ids


def insert_rows(table: Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples of ``columns``' values) into ``table``. The caller commits."""
    if not rows:
        return
    if _copying():
        _copy(table, columns, rows)
    else:
        db.session.execute(insert(table), _dicts(columns, rows))


def _dicts(columns: tuple[str, ...], rows: list[tuple]) -> list[dict]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _copying() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _copy(table: Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    names = ", ".join(f'"{name}"' for name in columns)
    driver = db.session.connection().connection.driver_connection
    try:
        with driver.cursor() as cursor:
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
    except Exception as exc:
        # psycopg's own error: the unique key of a row another run wrote meanwhile, say.
        if getattr(exc, "sqlstate", "") == "23505":
            raise IntegrityError(f"COPY {table.name}", None, exc) from exc
        raise
