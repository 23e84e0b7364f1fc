"""Helpers for the page tests: row counts, page text, a small plugin that records events."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from markupsafe import Markup
from sqlalchemy import func, select

from host import hookimpl
from host.extension_points import CustomerField, ShopOption
from host.extensions import db
from host.models import Appointment, Company, CompanyOption, Customer, Invoice, User

COUNTED = (Company, User, Customer, Appointment, Invoice, CompanyOption)

OPTION_FREE = 911
OPTION_REFUSED = 912
REFUSAL = "Option 912 needs the moon in Quebec."
CODE_ERROR = "The fleet code must start with F-."


def row_counts(app) -> dict[str, int]:
    """Count the rows of every host table the pages write."""
    with app.app_context():
        return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def page_text(response) -> str:
    """Return the response body with HTML entities decoded, for message checks."""
    return html.unescape(response.get_data(as_text=True))


def csrf_token(response) -> str:
    """Return the CSRF token of the first form on the page."""
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.text)
    found = found or re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert found, "no CSRF token on the page"
    return found.group(1)


class FleetCodeField(CustomerField):
    """A plugin field on the Customer Information tab: a fleet code starting with F-."""

    name = "fleet"

    def __init__(self, plugin: PagesPlugin) -> None:
        self.plugin = plugin

    def render(self, customer, form_data: Mapping[str, str] | None) -> Markup:
        value = (form_data or {}).get("fleet-code", "")
        return Markup(
            '<label for="fleet-code">Fleet code</label>'
            '<input id="fleet-code" name="fleet-code" value="{}">'
        ).format(value)

    def validate(self, customer, form_data: Mapping[str, str]) -> list[str]:
        value = form_data.get("fleet-code", "")
        return [CODE_ERROR] if value and not value.startswith("F-") else []

    def apply(self, customer, form_data: Mapping[str, str], user) -> None:
        self.plugin.applied.append((customer.id, form_data.get("fleet-code", "")))


class PagesPlugin:
    """Declare two options (one always refused), a customer field, and record events."""

    __name__ = "pages-test"

    def __init__(self) -> None:
        self.applied: list[tuple[int, str]] = []
        self.printed: list[tuple[int, int]] = []
        self.appointments: list[tuple[int, dict, bool]] = []

    @hookimpl
    def shop_options(self):
        return [ShopOption(OPTION_FREE, "Free option"), ShopOption(OPTION_REFUSED, "Moon option")]

    @hookimpl
    def veto_option_change(self, company, number, enabled):
        return REFUSAL if number == OPTION_REFUSED and enabled else None

    @hookimpl
    def customer_fields(self, customer):
        return [FleetCodeField(self)]

    @hookimpl
    def invoice_printed(self, invoice):
        self.printed.append((invoice.id, invoice.print_count))

    @hookimpl
    def appointment_changed(self, appointment, changes, created):
        self.appointments.append((appointment.id, dict(changes), created))
