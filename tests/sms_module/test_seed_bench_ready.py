"""``crmhost sms seed-bench`` refuses, in one line and before writing anything, what it
cannot do: a size past its bounds (a typo), a database not migrated, no sender number."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, func, select, text

from host.extensions import db
from host.models import Company
from plugins.sms_module.cli import seed_bench
from plugins.sms_module.seed_bench import MAX_MESSAGES, MAX_SHOPS, seed

NOT_MIGRATED = "Error: The database is not migrated: run crmhost db upgrade.\n"


def test_sizes_past_the_bounds_are_usage_errors(app, runner):
    # Checked first: without the bounds, the invocations below would run for hours.
    bounds = {p.name: (p.type.min, p.type.max) for p in seed_bench.params if p.name != "append"}
    assert bounds == {"messages": (1, MAX_MESSAGES), "shops": (1, MAX_SHOPS)}
    assert (MAX_MESSAGES, MAX_SHOPS) == (10_000_000, 10_000)
    for args, named in (
        (["--messages", "10000000000"], "'--messages'"),
        (["--messages", "10000001"], "'--messages'"),
        (["--messages", "0"], "'--messages'"),
        (["--messages", "10", "--shops", "10001"], "'--shops'"),
        (["--messages", "10", "--shops", "0"], "'--shops'"),
    ):
        result = runner.invoke(args=["sms", "seed-bench", *args])
        assert result.exit_code == 2, (args, result.output)
        assert f"Invalid value for {named}" in result.output and "<=x<=" in result.output
        assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    with app.app_context():
        with pytest.raises(ValueError, match="1 to 10,000,000 messages"):
            seed(MAX_MESSAGES + 1)
        assert db.session.scalar(select(func.count()).select_from(Company)) == 0


@pytest.fixture
def bare_app(make_app, database_uri, tmp_path):
    """An app on a database of its own that holds no table (on PostgreSQL, a schema of
    its own, first and only on the connections' search path)."""
    if not database_uri.startswith("postgresql"):
        yield make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'bare.sqlite'}")
        return
    schema = f"seed_bench_bare_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_uri)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    options = {"connect_args": {"options": f"-c jit=off -c search_path={schema}"}}
    try:
        yield make_app(SQLALCHEMY_ENGINE_OPTIONS=options)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["sms", "seed-bench", "--messages", "50", *args])


@pytest.mark.parametrize("append", [False, True])
def test_an_unmigrated_database_is_one_clear_error(bare_app, append):
    result = invoke(bare_app, *(["--append"] * append))
    assert result.exit_code == 1, result.output
    assert result.output == NOT_MIGRATED
    assert isinstance(result.exception, SystemExit)


def test_a_database_migrated_to_an_older_revision_is_not_migrated(bare_app):
    # The module's tables, but a column a later migration adds is not there yet.
    with bare_app.app_context():
        db.metadata.create_all(db.engine)
        with db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE sms_message DROP COLUMN forward_error"))
    result = invoke(bare_app)
    assert (result.exit_code, result.output) == (1, NOT_MIGRATED)
    with bare_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Company)) == 0


def test_no_sender_number_is_one_clear_error_before_any_row(bare_app):
    with bare_app.app_context():
        db.metadata.create_all(db.engine)  # every table, but no number in the pools
    result = invoke(bare_app)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: seed-bench needs an enabled sender number")
    assert "crmhost sms numbers add" in result.output
    with bare_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Company)) == 0


def test_the_help_says_the_bounds(app, runner):
    result = runner.invoke(args=["sms", "seed-bench", "--help"])
    assert result.exit_code == 0
    assert "1<=x<=10000000" in result.output and "1<=x<=10000]" in result.output
