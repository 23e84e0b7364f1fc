"""The ``crmhost`` command: a Flask CLI group with the host's and the plugins' commands."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from redis.exceptions import RedisError

from host import users
from host.app import create_app
from host.demo import run_demo
from host.security import UnsafeConfiguration
from host.worker import CONNECTION_ERRORS, UnknownQueue, WorkerFailure, run_worker


def make_app():
    """Build the app; an unsafe configuration is an error message, not a traceback."""
    try:
        return create_app()
    except UnsafeConfiguration as exc:
        raise click.ClickException(str(exc)) from exc


def offline_commands() -> dict[str, click.Command]:
    """Return the app's commands (the host's, ``db``, the enabled plugins') by name, found
    without building the app: what ``crmhost --help`` lists when the app is refused."""
    from flask_migrate.cli import db as db_group

    from host.plugins import get_plugin_manager

    group = click.Group()
    group.add_command(db_group)
    disabled = [p.strip() for p in os.environ.get("CRMHOST_DISABLED_PLUGINS", "").split(",")]
    get_plugin_manager([p for p in disabled if p]).hook.register_commands(cli=group)
    return dict(group.commands)


class CrmhostGroup(FlaskGroup):
    """Flask's group, whose help lists every command even when the app is refused (no
    SECRET_KEY in production): no traceback, the commands, and the reason in one line.
    Running a command that needs the app then prints that one-line error (exit 1)."""

    def _refusal(self, ctx: click.Context) -> click.ClickException | None:
        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except click.ClickException as exc:
            return exc
        return None

    def list_commands(self, ctx: click.Context) -> list[str]:
        if self._refusal(ctx) is None:
            return super().list_commands(ctx)
        self._load_plugin_commands()
        return sorted(set(self.commands) | set(offline_commands()))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        refusal = self._refusal(ctx)
        if refusal is None:
            return super().format_commands(ctx, formatter)
        self._load_plugin_commands()
        click.Group(commands={**offline_commands(), **self.commands}).format_commands(
            ctx, formatter
        )
        with formatter.section("Note"):
            formatter.write_text(f"The app cannot start: {refusal.format_message()}")
        return None


@click.group(cls=CrmhostGroup, create_app=make_app, add_version_option=False)
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
    try:
        user = users.create_user(email, password, role, company_id, name)
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Quit once the queues are empty.")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    metavar="NAME",
    help="Listen on this declared queue only (repeatable). Default: every declared queue.",
)
@with_appcontext
def worker(burst: bool, queues: tuple[str, ...]) -> None:
    """Run queued jobs, due jobs at their time and the periodic tasks, on the queues plugins
    declare. Redis or the database away: waits for it and goes on. Exit status: 0 once
    stopped (SIGTERM, Ctrl-C, --burst done), 1 on a failure, 2 for an undeclared queue."""
    app = current_app._get_current_object()
    try:
        run_worker(app, queues, burst=burst)
    except UnknownQueue as exc:
        raise click.UsageError(str(exc)) from exc
    except CONNECTION_ERRORS as exc:  # --burst only: without it the worker waits
        service = "Redis" if isinstance(exc, RedisError) else "the database"
        raise click.ClickException(f"Cannot reach {service}: {exc}") from exc
    except WorkerFailure as exc:
        raise click.ClickException(f"The worker stopped on an error: {exc.__cause__!r}") from exc


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
def demo(host: str, port: int) -> None:
    """Run the web server, a worker and Redis on demo data; Ctrl-C stops all of it."""
    # The demo builds its own app once the children's environment is set.
    run_demo(host, port)


COMMANDS = [create_user, worker, demo]
# ``crmhost demo`` runs without loading the app first: it sets what the app needs (its own
# SECRET_KEY, Redis, public address) before building it.
main.add_command(demo)

if __name__ == "__main__":  # ``python -m host.cli``: how the demo starts its worker
    main()
