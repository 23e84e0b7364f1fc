"""Bulk inserts for the seeded rows: PostgreSQL's COPY (psycopg 3), executemany in chunks
elsewhere (SQLite). Rows carry their own ids, so children can name their parents; the id
sequences are moved past them at the end (``fix_sequences``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Table, text

from host.api import db

CHUNK = 5000  # rows per executemany on SQLite


class Writer:
    """Write rows of the module's tables in bulk on one connection of ``db.engine``.

    ``columns`` name what each tuple holds; a NOT NULL column left out gets its model's
    default (computed once), so a column added later with a default does not break seeding.
    """

    def __init__(self, skip_triggers: bool = False) -> None:
        self.raw = db.engine.raw_connection()
        self.postgres = db.engine.dialect.name == "postgresql"
        self.triggers_skipped = False
        if self.postgres:  # a crash loses the last chunks at most: a benchmark's data
            cursor = self.raw.cursor()
            cursor.execute("SET synchronous_commit TO off")
            self.raw.commit()
            if skip_triggers:  # this session only; needs a superuser, else triggers run
                try:
                    cursor.execute("SET session_replication_role = replica")
                    self.raw.commit()
                    self.triggers_skipped = True
                except Exception:  # noqa: BLE001  not allowed: the rows go in with triggers
                    self.raw.rollback()
            cursor.close()
        self.touched: set[str] = set()
        self._fills: dict[tuple, tuple[list[str], tuple]] = {}

    def _fill(self, table: Table, columns: Sequence[str]) -> tuple[list[str], tuple]:
        key = (table.name, tuple(columns))
        if key not in self._fills:
            names, values = list(columns), []
            for column in table.columns:
                if column.name in columns or column.nullable or column.server_default is not None:
                    continue
                default = column.default
                if default is None:
                    raise ValueError(f"seed-bench does not fill {table.name}.{column.name}")
                value = default.arg(None) if default.is_callable else default.arg
                names.append(column.name)
                values.append(getattr(value, "value", value))
            self._fills[key] = (names, tuple(values))
        return self._fills[key]

    def write(self, table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        """Insert ``rows`` (tuples in the order of ``columns``) into ``table``."""
        names, extra = self._fill(table, columns)
        self.touched.add(table.name)
        cursor = self.raw.cursor()
        if self.postgres:
            listed = ", ".join(f'"{n}"' for n in names)
            with cursor.copy(f'COPY "{table.name}" ({listed}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row + extra if extra else row)
        else:
            marks = ", ".join("?" for _ in names)
            listed = ", ".join(f'"{n}"' for n in names)
            sql = f'INSERT INTO "{table.name}" ({listed}) VALUES ({marks})'
            batch = []
            for row in rows:
                batch.append(tuple(_sqlite(v) for v in row + extra))
                if len(batch) >= CHUNK:
                    cursor.executemany(sql, batch)
                    batch.clear()
            if batch:
                cursor.executemany(sql, batch)
        cursor.close()

    def commit(self) -> None:
        self.raw.commit()

    def next_id(self, table: Table) -> int:
        """Return the first id after the highest one of ``table``."""
        cursor = self.raw.cursor()
        cursor.execute(f'SELECT max(id) FROM "{table.name}"')
        (highest,) = cursor.fetchone()
        cursor.close()
        return (highest or 0) + 1

    def fix_sequences(self) -> None:
        """Move each touched table's id sequence past its highest id (PostgreSQL)."""
        if not self.postgres:
            return
        cursor = self.raw.cursor()
        for name in sorted(self.touched):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                f'(SELECT max(id) FROM "{name}"))'
            )
        self.raw.commit()
        cursor.close()

    def analyze(self) -> None:
        """Refresh the planner's statistics of every touched table (PostgreSQL)."""
        if not self.postgres:
            return
        cursor = self.raw.cursor()
        for name in sorted(self.touched):
            cursor.execute(f'ANALYZE "{name}"')
        self.raw.commit()
        cursor.close()

    def close(self) -> None:
        self.raw.close()


def _sqlite(value):
    """A value as SQLAlchemy stores it on SQLite: times as naive UTC text, amounts as text."""
    if hasattr(value, "isoformat") and hasattr(value, "hour"):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if value.__class__.__name__ == "Decimal":
        return str(value)
    return value


def count_messages() -> int:
    """Return how many messages the database holds."""
    return db.session.scalar(text("SELECT count(*) FROM sms_message")) or 0
