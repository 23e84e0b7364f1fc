"""Template filters and globals shared by the host's and the plugins' pages."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, abort, current_app, jsonify, render_template, request
from flask_babel import format_datetime, get_locale, gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from host import access
from host.access import current_shop
from host.forms import APPOINTMENT_STATUS_LABELS, ROLE_LABELS
from host.models import shop_zone
from host.phones import format_phone


def localtime(value: datetime | None, company=None) -> str:
    """Format ``value`` in ``company``'s time zone (UTC when it has none)."""
    if value is None:
        return ""
    zone = shop_zone(company)
    return format_datetime(value.astimezone(zone).replace(tzinfo=None), "medium")


def menu_links() -> list:
    """Return the menu entries every plugin offers the current user, in order."""
    if not current_user.is_authenticated:
        return []
    pm = current_app.extensions["plugin_manager"]
    links = [link for found in pm.hook.menu_links(user=current_user) for link in found]
    return sorted(links, key=lambda link: link.order)


def status_label(status) -> str:
    """Return the appointment status as the user reads it."""
    return str(APPOINTMENT_STATUS_LABELS.get(status, status))


def role_label(role) -> str:
    """Return the user's role as the user reads it."""
    return str(ROLE_LABELS.get(role, role))


def error_page(exc: HTTPException):
    """Answer an HTTP error with a page in the site's layout, never a traceback."""
    if request.path.startswith("/api/"):
        # Programs get the API's JSON error shape, whatever raised the error.
        code = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error={"code": code, "message": exc.description or ""}), exc.code
    if isinstance(exc, CSRFError):
        message = gettext(
            "This form has expired or did not come from this site. Reload the page and try again."
        )
        return render_template(
            "error.html", code=400, title=gettext("Form expired"), message=message
        ), 400
    if "description" in vars(exc) and exc.code in (400, 409):
        message = exc.description  # the view said what is wrong
        return render_template(
            "error.html", code=exc.code, title=f"{exc.code} {exc.name}", message=message
        ), exc.code
    messages = {
        400: gettext("The request was not understood. Reload the page and try again."),
        403: gettext("Your role does not give access to this page."),
        404: gettext("This page does not exist, or it belongs to another shop."),
        405: gettext("This address does not accept that request."),
        413: gettext("What you sent is too large."),
    }
    message = messages.get(exc.code, exc.description)
    return render_template(
        "error.html", code=exc.code, title=f"{exc.code} {exc.name}", message=message
    ), exc.code


def refuse_nul_bytes() -> None:
    """Refuse a query or form holding a NUL byte: no text has one, and PostgreSQL rejects it."""
    for values in (request.args, request.form):
        if any("\x00" in value for _key, found in values.lists() for value in found):
            abort(400, description=gettext("Remove the invisible control characters."))


def init_app(app: Flask) -> None:
    """Register the filters, globals and error pages."""
    app.jinja_env.filters["phone"] = format_phone
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.filters["role_label"] = role_label
    app.jinja_env.globals.update(
        menu_links=menu_links, current_shop=current_shop, get_locale=get_locale
    )
    app.register_error_handler(HTTPException, error_page)
    # Before any view, so that no plugin's query meets a NUL byte.
    app.before_request(refuse_nul_bytes)
    access.init_app(app)
