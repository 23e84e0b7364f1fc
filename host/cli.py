"""The ``crmhost`` command: a Flask CLI group with the host's and the plugins' commands."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup, with_appcontext


def make_app():
    from host.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=make_app, add_version_option=False)
def main() -> None:
    """Run and manage the shop CRM."""


@click.command("create-user")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(["operator", "admin", "staff"]), default="operator")
@click.option("--company-id", type=int, default=None, help="The shop (not for operators).")
@click.option("--name", default="")
@with_appcontext
def create_user(email: str, password: str, role: str, company_id: int | None, name: str) -> None:
    """Create a user who can log in."""
    from host.users import UserError
    from host.users import create_user as create

    try:
        user = create(email, password, role, company_id, name)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


COMMANDS = [create_user]
