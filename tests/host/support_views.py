"""What the tests of the host's pages share: form data, the check of a refused form, and
the links of the menu."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.support_pages import page_text, row_counts

CUSTOMER = {
    "first_name": "Marie",
    "last_name": "Tremblay",
    "mobile_phone": "514 555 0199",
    "email": "marie@example.com",
    "language": "fr",
}


def as_utc(value: datetime) -> datetime:
    """Read a stored time as UTC (SQLite gives it back without its zone)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def assert_refused(app, response, before: dict, message: str) -> None:
    """Check a POST answered 422 with ``message`` on the page and wrote no row."""
    text = page_text(response)
    assert response.status_code == 422, text[:2000]
    assert message in text
    assert "Traceback" not in text
    assert row_counts(app) == before


def menu_hrefs(html: str) -> list[str]:
    """Return the links of the main menu of a rendered page."""
    menu = re.search(r'<nav class="menu">(.*?)</nav>', html, re.S)
    assert menu, html
    return re.findall(r'href="([^"]+)"', menu.group(1))
