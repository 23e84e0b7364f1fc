"""The migrations build the schema from empty, undo it, and match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import Column, MetaData, String, inspect, text

from host.extensions import db


def schema_differences(metadata: MetaData | None = None) -> list:
    """Return what ``flask db migrate`` would write: model changes the migrations lack."""
    # The same comparison options as ``flask db migrate`` (compare_type, batch mode).
    options = dict(current_app.extensions["migrate"].configure_args)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=options)
        return compare_metadata(context, metadata if metadata is not None else db.metadata)


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def database_revision() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    migrate = current_app.extensions["migrate"]
    heads = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory)).get_heads()
    assert len(heads) == 1, f"the migrations have several heads, merge them: {heads}"
    return heads[0]


def check_round_trip(app: Flask) -> None:
    """Downgrade ``app``'s database to empty, then upgrade it to the models again."""
    with app.app_context():
        downgrade(revision="base")
        assert table_names() <= {"alembic_version"}
        assert database_revision() is None
        upgrade()
        assert set(db.metadata.tables) <= table_names()
        assert database_revision() == head_revision()
        assert schema_differences() == []


def test_every_plugin_is_loaded(app):
    # The comparisons below are only complete if every plugin's models are in the metadata.
    pm = app.extensions["plugin_manager"]
    assert {"sms", "reports", "host.default_plugin"} <= {pm.get_name(p) for p in pm.get_plugins()}


def test_models_match_the_migrated_test_database(app):
    with app.app_context():
        assert database_revision() == head_revision()
        assert set(db.metadata.tables) <= table_names()
        assert schema_differences() == []


def test_the_comparison_sees_a_missing_column(app):
    # Proves the check above can fail: a column the migrations never made is reported.
    models = MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.sorted_tables:
        table.to_metadata(models)
    models.tables["customer"].append_column(Column("nickname_for_test", String(20)))
    with app.app_context():
        differences = schema_differences(models)
        assert [d[0] for d in differences] == ["add_column"]
        assert differences[0][3].name == "nickname_for_test"


def test_downgrade_and_upgrade_the_test_database(app):
    check_round_trip(app)


def test_upgrade_downgrade_upgrade_on_a_fresh_sqlite_database(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    with app.app_context():
        assert table_names() == set()
        upgrade()
        assert set(db.metadata.tables) <= table_names()
        assert schema_differences() == []
    check_round_trip(app)


def test_customer_search_migration_fills_existing_customers(make_app, tmp_path):
    # Issue 12 point 5: customers saved before migration d12a0c0d0e01 are found by "cote".
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'search.sqlite'}")
    with app.app_context():
        upgrade(revision="c13b0d1e2f02")
        with db.engine.begin() as conn:
            now = {"now": "2026-11-30 12:00:00"}
            conn.execute(
                text(
                    "INSERT INTO company (id, name, language, created_at) "
                    "VALUES (1, 'Garage', 'fr', :now)"
                ),
                now,
            )
            conn.execute(
                text(
                    "INSERT INTO customer (id, company_id, first_name, last_name, email, "
                    "mobile_phone, created_at) VALUES (1, 1, 'Émilie', 'Côté', "
                    "'E.Cote@Example.com', '+15145550101', :now), (2, 1, 'Luc', '', NULL, NULL, "
                    ":now)"
                ),
                now,
            )
        upgrade(revision="d12a0c0d0e01")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, search_text FROM customer ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [
            (1, "emilie cote e.cote@example.com +15145550101"),
            (2, "luc"),
        ]
        upgrade()
        assert schema_differences() == []
