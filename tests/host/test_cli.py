"""The ``crmhost`` command group and ``create-user``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from host.cli import main
from host.extensions import db
from host.models import Company, Role, User


@pytest.fixture
def shop_id(app):
    with app.app_context():
        shop = Company(name="Garage", country="CA", province="ON")
        db.session.add(shop)
        db.session.commit()
        return shop.id


def find_user(app, email):
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def test_host_commands_are_in_the_group(app):
    commands = app.cli.list_commands(None)
    assert {"create-user", "worker", "demo"} <= set(commands)


def test_crmhost_help_lists_the_commands(monkeypatch, database_uri, redis_url):
    monkeypatch.setenv("DATABASE_URL", database_uri)
    monkeypatch.setenv("REDIS_URL", redis_url)
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    for name in ("create-user", "worker", "demo", "db"):
        assert f"  {name} " in result.output


def test_create_operator(runner, app):
    result = runner.invoke(args=["create-user", "Op@Example.com", "--password", "long enough"])
    assert result.exit_code == 0, result.output
    assert "Created operator op@example.com" in result.output
    user = find_user(app, "op@example.com")
    assert user.role == Role.OPERATOR and user.company_id is None
    assert user.check_password("long enough")


def test_create_shop_admin_with_password_prompt(runner, app, shop_id):
    result = runner.invoke(
        args=["create-user", "boss@example.com", "--role", "admin", "--company-id", str(shop_id)],
        input="secret-pass\nsecret-pass\n",
    )
    assert result.exit_code == 0, result.output
    user = find_user(app, "boss@example.com")
    assert (user.role, user.company_id) == (Role.ADMIN, shop_id)
    assert user.check_password("secret-pass")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["taken@example.com", "--password", "long enough"], "already exists"),
        (["new@example.com", "--password", "short"], "8 characters or more"),
        (["op@example.com", "--password", "long enough", "--company-id", "SHOP"], "no shop"),
        (["staff@example.com", "--password", "long enough", "--role", "staff"], "--company-id"),
        (
            ["staff@example.com", "--password", "long enough", "--role", "staff"]
            + ["--company-id", "999999"],
            "existing shop",
        ),
        (["not-an-email", "--password", "long enough"], "is not an e-mail address"),
        # Issue 13 §10: names and addresses reach e-mail headers; a line break ends one.
        (
            ["new@example.com", "--password", "long enough", "--name", "evil\r\nBcc: x@y.z"],
            "one line of text",
        ),  # fmt: skip
        (
            ["new@example.com", "--password", "long enough", "--name", "nul\x00"],
            "one line of text",
        ),  # fmt: skip
        (["new@example.com", "--password", "long enough", "--name", "x" * 201], "limit is 200"),
        (["new@example.com\nBcc: x@y.z", "--password", "long enough"], "not an e-mail"),
        (["new @example.com", "--password", "long enough"], "not an e-mail"),
    ],
)
def test_create_user_refusals_are_clear(runner, app, shop_id, args, message):
    runner.invoke(args=["create-user", "taken@example.com", "--password", "long enough"])
    args = [str(shop_id) if a == "SHOP" else a for a in args]

    result = runner.invoke(args=["create-user", *args])

    assert result.exit_code == 1
    assert message in result.output
    assert result.output.startswith("Error: ")
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    with app.app_context():
        assert db.session.scalar(select(db.func.count(User.id))) == 1


def test_create_user_rejects_an_unknown_role(runner):
    args = ["create-user", "a@example.com", "--password", "long enough", "--role", "boss"]
    result = runner.invoke(args=args)
    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output
