"""Template filters and globals shared by the host's and the plugins' pages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, render_template
from flask_babel import format_datetime, get_locale, gettext
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from host.access import current_shop
from host.phones import format_phone


def localtime(value: datetime | None, company=None) -> str:
    """Format ``value`` in ``company``'s time zone (UTC when it has none)."""
    if value is None:
        return ""
    zone = ZoneInfo((company.time_zone if company else None) or "UTC")
    return format_datetime(value.astimezone(zone).replace(tzinfo=None), "medium")


def menu_links() -> list:
    """Return the menu entries every plugin offers the current user, in order."""
    if not current_user.is_authenticated:
        return []
    pm = current_app.extensions["plugin_manager"]
    links = [link for found in pm.hook.menu_links(user=current_user) for link in found]
    return sorted(links, key=lambda link: link.order)


def error_page(exc: HTTPException):
    """Answer an HTTP error with a page in the site's layout, never a traceback."""
    messages = {
        400: gettext("The request was not understood. Reload the page and try again."),
        403: gettext("Your role does not give access to this page."),
        404: gettext("This page does not exist, or it belongs to another shop."),
        405: gettext("This address does not accept that request."),
        409: exc.description,
        413: gettext("What you sent is too large."),
    }
    message = messages.get(exc.code, exc.description)
    return render_template(
        "error.html", code=exc.code, title=f"{exc.code} {exc.name}", message=message
    ), exc.code


def init_app(app: Flask) -> None:
    """Register the filters, globals and error pages."""
    app.jinja_env.filters["phone"] = format_phone
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.globals.update(
        menu_links=menu_links, current_shop=current_shop, get_locale=get_locale
    )
    app.register_error_handler(HTTPException, error_page)
