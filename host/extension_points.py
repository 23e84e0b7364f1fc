"""The value types plugins hand to the host through hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup


@dataclass(frozen=True)
class MenuLink:
    """An entry of the main menu."""

    label: str
    endpoint: str
    order: int = 100


@dataclass(frozen=True)
class PeriodicTask:
    """A function ``crmhost worker`` calls every ``every_seconds`` (one worker at a time)."""

    name: str
    every_seconds: float
    function: Callable[[], object]


@dataclass(frozen=True)
class ShopOption:
    """A numbered option on the shop's Options tab (Configuration > General information)."""

    number: int
    label: str
    description: str = ""


@dataclass(frozen=True)
class CustomerTab:
    """A tab on the customer's page, linking to a plugin's view."""

    label: str
    url: str


@dataclass(frozen=True)
class Report:
    """A report the reports plugin lists, filters, shows and exports as CSV.

    ``rows(company, filters)`` returns an iterable of tuples matching ``columns``;
    ``company`` is ``None`` for the platform operator (every shop).
    """

    name: str
    title: str
    columns: tuple[str, ...]
    rows: Callable[[Any, Mapping[str, str]], Iterable[tuple]]
    description: str = ""
    filters: tuple[str, ...] = field(default_factory=tuple)


class CustomerField:
    """A plugin's field on the Customer Information tab.

    The host renders it inside the customer form, validates it with the form,
    and applies it in the same transaction as the customer, before the commit.
    """

    name: str = ""

    def render(self, customer, form_data: Mapping[str, str] | None) -> Markup:
        """Return the field's HTML (inputs named with the field's ``name`` prefix)."""
        raise NotImplementedError

    def validate(self, customer, form_data: Mapping[str, str]) -> list[str]:
        """Return the messages that refuse ``form_data``; empty when it is valid."""
        return []

    def apply(self, customer, form_data: Mapping[str, str], user) -> None:
        """Write the field's data for ``customer``; the host commits."""
