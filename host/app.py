"""The application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, has_request_context, request, session
from flask_login import current_user

from host import (
    event_log,  # noqa: F401  (the host_event table, like the models)
    models,  # noqa: F401  (models must be imported before Alembic looks)
    security,
    templating,
)
from host.extensions import babel, csrf, db, login_manager, migrate
from host.login_throttle import LoginThrottle
from host.plugins import collect_unique, get_plugin_manager
from host.redis_connection import RedisConnection

LANGUAGES = ("en", "fr")


def database_url(url: str) -> str:
    """Use the psycopg 3 driver for a ``postgres://`` or ``postgresql://`` URL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the CRM host with every enabled plugin."""
    # CRMHOST_INSTANCE_PATH moves the instance folder (SQLite, embedded Redis, config.py).
    instance = os.environ.get("CRMHOST_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance) if instance else None,
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)

    # Defaults that run anywhere: SQLite in the instance folder, embedded Redis.
    app.config.from_mapping(
        # "dev" runs tests and debug only: security.init_app refuses it in production.
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev"),
        SQLALCHEMY_DATABASE_URI=database_url(
            os.environ.get(
                "DATABASE_URL", f"sqlite:///{os.path.join(app.instance_path, 'crmhost.sqlite')}"
            )
        ),
        REDIS_URL=os.environ.get("REDIS_URL") or None,
        PLUGINS_DISABLED=[
            p.strip() for p in os.environ.get("CRMHOST_DISABLED_PLUGINS", "").split(",") if p
        ],
        PLUGINS_EXTRA=[],
        # Where people and services reach this site (env CRMHOST_PUBLIC_BASE_URL), for
        # plugins that give the address out: links, a carrier's callbacks.
        PUBLIC_BASE_URL="http://127.0.0.1:5000",
        # Outgoing e-mail (host/mail.py); no SMTP_HOST: nothing is e-mailed.
        SMTP_HOST=os.environ.get("SMTP_HOST") or None,
        SMTP_PORT=int(os.environ.get("SMTP_PORT") or 25),
        SMTP_USER=os.environ.get("SMTP_USER") or None,
        SMTP_PASSWORD=os.environ.get("SMTP_PASSWORD") or None,
        SMTP_FROM=os.environ.get("SMTP_FROM") or "crm@localhost",
        SMTP_TIMEOUT=5,  # seconds the connection and each read may wait (issue 15)
        # The largest request body, in bytes (env CRMHOST_MAX_CONTENT_LENGTH): a larger one is
        # refused with 413 before it is read, forms and API alike (issue 13, point 4).
        MAX_CONTENT_LENGTH=1024 * 1024,
        # Days the event log (host_event) keeps an event: plugins' sweepers look back less.
        HOST_EVENT_KEEP_DAYS=7,
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES="translations",
    )
    # Instance config (deployment secrets), then the caller's overrides.
    app.config.from_pyfile("config.py", silent=True)
    # Any setting from the environment: CRMHOST_SMTP_PORT=587 sets SMTP_PORT (JSON, else text).
    app.config.from_prefixed_env("CRMHOST")
    if test_config:
        app.config.from_mapping(test_config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # PostgreSQL's JIT compiles a report's query for longer than it runs (up to 4 s):
        # off for the application's connections (issue 14, point 2).
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {}).setdefault("options", "-c jit=off")
    # No start on a public SECRET_KEY; cookie flags and security headers (host/security.py).
    security.init_app(app)

    # Plugins come first: their models must exist before Alembic sees the metadata.
    pm = get_plugin_manager(app.config["PLUGINS_DISABLED"], app.config["PLUGINS_EXTRA"])
    app.extensions["plugin_manager"] = pm

    # Extensions, each bound through init_app.
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    RedisConnection(app)
    LoginThrottle(app)
    templating.init_app(app)

    # Plugins initialise their own extensions, then contribute pages, commands, options.
    pm.hook.startup(app=app)
    register_blueprints(app)
    pm.hook.register_commands(cli=app.cli)
    app.extensions["shop_options"] = {
        o.number: o for o in collect_unique(pm, "shop_options", lambda o: o.number, "option number")
    }
    app.extensions["reports"] = {
        r.name: r for r in collect_unique(pm, "register_reports", lambda r: r.name, "report")
    }
    app.extensions["periodic_tasks"] = collect_unique(
        pm, "register_periodic_tasks", lambda t: t.name, "periodic task"
    )
    app.extensions["queues_declared"] = list(
        dict.fromkeys(name for names in pm.hook.register_queues() for name in names)
    )
    return app


def register_blueprints(app: Flask) -> None:
    """Register every plugin's blueprints, refusing two with one name."""
    pm = app.extensions["plugin_manager"]
    for bp in collect_unique(pm, "register_blueprints", lambda b: b.name, "blueprint"):
        app.register_blueprint(bp)


def select_locale() -> str:
    """Pick the user's chosen language, else the shop's, else the browser's."""
    if not has_request_context():
        return "en"  # CLI and workers: messages for logs and operators
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.company:
        return current_user.company.language
    return request.accept_languages.best_match(LANGUAGES) or "en"
