"""The recording test plugin: it implements every hook and records what it receives; and
the fixtures of the tests of the hooks. (The small plugins that clash, misspell a hook or
fail are in ``tests/host/support_small_plugins.py``.)

Plugins are class instances named through ``__name__`` (the name pluggy gives them and
start-up errors quote), the way Datasette's tests write theirs.
"""

from __future__ import annotations

from collections.abc import Mapping

import click
import pytest
from flask import Blueprint, current_app, url_for
from flask.cli import with_appcontext
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from host.api import (
    Customer,
    CustomerField,
    CustomerTab,
    MenuLink,
    PeriodicTask,
    Report,
    ShopOption,
    db,
    get_in_shop_or_404,
    hookimpl,
)

bp = Blueprint("testplugin", __name__, url_prefix="/testplugin")

OPTION_FREE = 901
OPTION_VETOED = 902
VETO_MESSAGE = "Option 902 cannot be switched on for {name}: the test plugin refuses it."
LOYALTY_ERROR = "The loyalty code must start with L-."
VETOED_NAME = "Moon Garage"
NAME_VETO = "{old} may not be renamed {new}: the test plugin refuses it."
FORM_VETO = "The test plugin refuses this save as a whole."
DEMO_NOTE = "The test plugin's customers answer in verse."


@bp.get("/")
@login_required
def index() -> str:
    """Show the test plugin's page."""
    return "The test plugin's page"


@bp.get("/customers/<int:customer_id>")
@login_required
def loyalty_tab(customer_id: int) -> str:
    """Show the test plugin's tab of a customer."""
    customer = get_in_shop_or_404(Customer, customer_id)
    return f"Loyalty of {customer.full_name}"


@click.command("testplugin-hello")
@click.argument("name")
@with_appcontext
def hello(name: str) -> None:
    """Greet NAME with the greeting the plugin's startup hook set."""
    click.echo(f"{current_app.config['TESTPLUGIN_GREETING']}, {name}!")


def committed_row(table: str, row_id: int) -> dict | None:
    """Read a row through a separate connection: it sees committed data only."""
    engine = create_engine(db.engine.url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            # table names come from the tests, never from users
            found = conn.execute(
                text(f'SELECT * FROM "{table}" WHERE id = :id'), {"id": row_id}
            ).first()
            return dict(found._mapping) if found else None
    finally:
        engine.dispose()


def customer_rows(company, filters: Mapping[str, str]):
    """Yield ``(id, name)`` of ``company``'s customers (every shop's for ``None``)."""
    query = select(Customer).order_by(Customer.id)
    if company is not None:
        query = query.where(Customer.company_id == company.id)
    for customer in db.session.scalars(query):
        yield customer.id, customer.full_name


class LoyaltyField(CustomerField):
    """A loyalty code on the Customer Information tab."""

    name = "loyalty"

    def __init__(self, plugin: RecordingPlugin) -> None:
        self.plugin = plugin

    def render(self, customer, form_data: Mapping[str, str] | None) -> Markup:
        value = (form_data or {}).get("loyalty-code", "")
        return Markup(
            '<label for="loyalty-code">Loyalty code</label>'
            '<input id="loyalty-code" name="loyalty-code" value="{}">'
        ).format(value)

    def validate(self, customer, form_data: Mapping[str, str]) -> list[str]:
        value = form_data.get("loyalty-code", "")
        return [LOYALTY_ERROR] if value and not value.startswith("L-") else []

    def apply(self, customer, form_data: Mapping[str, str], user) -> None:
        # What this session and another connection see tells whether we are inside
        # the customer's transaction, before its commit.
        self.plugin.record(
            "customer_field_apply",
            customer_id=customer.id,
            code=form_data.get("loyalty-code", ""),
            user=user.email,
            in_transaction=db.session().in_transaction(),
            name_here=customer.first_name,
            elsewhere=committed_row("customer", customer.id),
        )


class RecordingPlugin:
    """Implement every hook and record each call with what it received."""

    __name__ = "recording"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def record(self, hook: str, **received) -> None:
        self.calls.append((hook, received))

    def received(self, hook: str) -> list[dict]:
        """Return what each call of ``hook`` received, in call order."""
        return [kwargs for name, kwargs in self.calls if name == hook]

    @hookimpl
    def startup(self, app):
        app.config.setdefault("TESTPLUGIN_GREETING", "Hello")
        self.record("startup", app=app)

    @hookimpl
    def register_blueprints(self):
        return [bp]

    @hookimpl
    def register_commands(self, cli):
        cli.add_command(hello)

    @hookimpl
    def register_queues(self):
        return ["testplugin"]

    @hookimpl
    def seed_demo(self):
        self.record("seed_demo", customers=db.session.query(Customer).count())

    @hookimpl
    def demo_notes(self):
        self.record("demo_notes", app=current_app.name)
        return [DEMO_NOTE]

    @hookimpl
    def register_periodic_tasks(self):
        return [PeriodicTask("testplugin-tick", 60, self.tick)]

    def tick(self) -> None:
        self.record("tick", app=current_app.name)

    @hookimpl
    def menu_links(self, user):
        return [MenuLink("Test plugin", "testplugin.index", 70)]

    @hookimpl
    def shop_options(self):
        return [
            ShopOption(OPTION_FREE, "Test option"),
            ShopOption(OPTION_VETOED, "Vetoed option", "The test plugin refuses it."),
        ]

    @hookimpl
    def veto_option_change(self, company, number, enabled):
        self.record("veto_option_change", company=company.id, number=number, enabled=enabled)
        if number == OPTION_VETOED and enabled:
            return VETO_MESSAGE.format(name=company.name)
        return None

    @hookimpl
    def veto_company_change(self, company, changes):
        self.record("veto_company_change", company=company.id, changes=changes)
        old, new = changes.get("name", (None, None))
        if new == VETOED_NAME:
            # One message on a field of the form, one on a name the form does not have.
            return {"name": NAME_VETO.format(old=old, new=new), "whole_form": FORM_VETO}
        return None

    @hookimpl
    def customer_fields(self, customer):
        return [LoyaltyField(self)]

    @hookimpl
    def customer_tabs(self, customer):
        return [CustomerTab("Loyalty", url_for("testplugin.loyalty_tab", customer_id=customer.id))]

    @hookimpl
    def appointment_panels(self, appointment):
        # Markup from a plugin is shown as is; the vehicle inside is escaped.
        return [Markup("<p id='visit-panel'>Visit of %s</p>") % appointment.vehicle]

    @hookimpl
    def register_reports(self):
        return [
            Report(
                name="testplugin_customers",
                title="Customers (test plugin)",
                columns=("id", "name"),
                rows=customer_rows,
            )
        ]

    @hookimpl
    def customer_saved(self, customer, changes, created):
        self.record("customer_saved", id=customer.id, changes=changes, created=created)

    @hookimpl
    def appointment_changed(self, appointment, changes, created):
        self.record(
            "appointment_changed",
            id=appointment.id,
            changes=changes,
            created=created,
            elsewhere=committed_row("appointment", appointment.id),
        )

    @hookimpl
    def invoice_printed(self, invoice):
        self.record(
            "invoice_printed",
            id=invoice.id,
            print_count=invoice.print_count,
            elsewhere=committed_row("invoice", invoice.id),
        )


# Fixtures for the tests of the hooks (tests/conftest.py declares this module).
@pytest.fixture
def plugin() -> RecordingPlugin:
    """A fresh recording plugin."""
    return RecordingPlugin()


@pytest.fixture
def plugin_app(app, make_app, plugin):
    """An application with the recording plugin, on the emptied test database."""
    return make_app(PLUGINS_EXTRA=[plugin])


@pytest.fixture
def plugin_client(plugin_app):
    return plugin_app.test_client()
