"""The value types plugins hand to the host through hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
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
class Chart:
    """A stacked bar chart a report draws above its table, from the rows it shows.

    One bar per value of the ``x`` column (in the rows' order), stacked by the values of
    the ``series`` column, each part as high as the sum of the ``value`` column.
    ``colors`` may give a series its colour (any SVG colour); others take the palette's.
    """

    x: str
    series: str
    value: str
    title: str = ""
    colors: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class ReportDetail:
    """The page of one row of a report: its fields, then a table (e.g. its history)."""

    title: str
    fields: Sequence[tuple[str, Any]]
    table_title: str = ""
    table_columns: tuple[str, ...] = ()
    table_rows: Sequence[tuple] = ()


class CsvText:
    """A report's CSV rows already written (by the database), as pieces of text in order,
    each a whole number of lines ending "\\r\\n", every cell quoted and made safe as
    ``host.api.csv_response`` does: what a report's ``export`` may return instead of rows,
    for an export of a million rows. The header is written by the reports plugin."""

    def __init__(self, pieces: Iterable[str]) -> None:
        self.pieces = pieces

    def __iter__(self):
        return iter(self.pieces)


@dataclass(frozen=True)
class Report:
    """A report the reports plugin lists, filters, shows and exports as CSV.

    ``rows(company, filters)`` returns an iterable of tuples matching ``columns``;
    ``company`` is ``None`` for the platform operator (every shop).

    Optional parts:

    - ``chart``: a :class:`Chart` drawn above the table;
    - ``detail(company, row_id)``: the :class:`ReportDetail` of the row whose first column
      is ``row_id``, or ``None`` when ``company`` may not see it (the page answers 404);
      the first column of each row then links to it;
    - ``check_filters(filters)``: the notes about filter values that are ignored
      (e.g. an invalid date), shown above the table;
    - ``filter_choices``: filter name -> the values it accepts (a drop-down list);
    - ``filter_hints``: filter name -> what to type (an input's placeholder);
    - ``page(company, filters, after, size)``: the ``size`` rows that follow the cursor
      ``after`` (``None``: from the first) and the cursor of the next page (``None``: it was
      the last), for a long report that pages by keyset: a page reads its rows only, never
      the ones before it (issue 14, point 2). Without it, the pages are cut from ``rows``;
    - ``export(company, filters)``: the CSV's rows, already as the CSV writes them (only
      the exported columns, machine values), for a long report whose ``rows`` carry more
      than the CSV needs, or a :class:`CsvText` the database wrote; without it, the CSV
      writes ``rows``.
    """

    name: str
    title: str
    columns: tuple[str, ...]
    rows: Callable[[Any, Mapping[str, str]], Iterable[tuple]]
    description: str = ""
    filters: tuple[str, ...] = field(default_factory=tuple)
    chart: Chart | None = None
    detail: Callable[[Any, int], ReportDetail | None] | None = None
    check_filters: Callable[[Mapping[str, str]], Sequence[str]] | None = None
    filter_choices: Mapping[str, Sequence[str]] = field(
        default_factory=dict, hash=False, compare=False
    )
    filter_hints: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    page: (
        Callable[[Any, Mapping[str, str], str | None, int], tuple[Sequence[tuple], str | None]]
        | None
    ) = None
    export: Callable[[Any, Mapping[str, str]], Iterable[Sequence]] | None = None


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
