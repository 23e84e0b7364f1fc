"""Template filters and globals shared by the host's and the plugins' pages."""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import (
    Flask,
    abort,
    current_app,
    has_request_context,
    jsonify,
    render_template,
    request,
)
from flask_babel import get_locale, gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from host import access
from host.access import current_shop
from host.forms import APPOINTMENT_STATUS_LABELS, ROLE_LABELS
from host.models import shop_zone
from host.phones import format_phone


def reader_locale(company=None) -> str:
    """Return the Babel locale pages write numbers, money and moments in: the reader's
    language in Canada's way ("fr_CA": "75,50 $", "14 h 05"; "en_CA"), or the United
    States' for an English-speaking shop there ("en_US")."""
    language = str(get_locale() or "en").split("_")[0]
    if language == "fr":
        return "fr_CA"
    shop = company if company is not None else (current_shop() if has_request_context() else None)
    return "en_US" if shop is not None and shop.country == "US" else "en_CA"


def _local(value: datetime, company) -> tuple[datetime, str]:
    """Return ``value`` in ``company``'s zone, and the zone's name when the reader must be
    told which it is: the operator (no shop) reads UTC, named, and so does a shop whose
    province is not known yet, so that no time passes for shop time (issue 12, point 2)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # stored moments are UTC
    local = value.astimezone(shop_zone(company))
    return local, ("UTC" if company is None or not company.time_zone else "")


def _named(text: str, zone: str) -> str:
    return f"{text} {zone}" if zone else text


def localtime(value: datetime | None, company=None) -> str:
    """Write moment ``value`` (aware, or naive UTC) as its date and time in ``company``'s
    time zone, in the reader's language through Babel: "30 nov. 2026, 14 h 05",
    "Nov 30, 2026, 2:05 p.m."; for no shop (the operator) in UTC, named: "… UTC".
    "" for ``None`` (issue 12, point 2)."""
    if value is None:
        return ""
    local, zone = _local(value, company)
    locale = reader_locale(company)
    when = babel_dates.get_datetime_format("medium", locale=locale).format(
        babel_dates.format_time(local, "short", locale=locale),
        babel_dates.format_date(local, "medium", locale=locale),
    )
    return _named(when, zone)


def localdate(value: datetime | date | None, company=None) -> str:
    """Write the day of ``value`` in ``company``'s time zone ("30 nov. 2026"); a ``date``
    as it is; "" for ``None``. The operator's days are UTC days, named."""
    if value is None:
        return ""
    zone = ""
    if isinstance(value, datetime):
        value, zone = _local(value, company)
    return _named(babel_dates.format_date(value, "medium", locale=reader_locale(company)), zone)


def localhour(value: datetime | None, company=None) -> str:
    """Write the time of day of ``value`` in ``company``'s time zone ("14 h 05",
    "2:05 p.m."; "… UTC" for the operator); "" for ``None``."""
    if value is None:
        return ""
    local, zone = _local(value, company)
    return _named(babel_dates.format_time(local, "short", locale=reader_locale(company)), zone)


def money(amount, currency: str | None = None, company=None) -> str:
    """Write ``amount`` (a number of units, not cents) in ``currency`` (ISO 4217) the
    reader's way through Babel: "$75.50" in English, "75,50 $" in French (issue 12, point 2);
    "" for ``None``. ``currency`` defaults to the shop's: USD in the United States, else CAD
    (also for the operator)."""
    if amount is None or amount == "":
        return ""
    shop = company if company is not None else (current_shop() if has_request_context() else None)
    if not currency:
        currency = "USD" if shop is not None and shop.country == "US" else "CAD"
    return babel_numbers.format_currency(amount, currency, locale=reader_locale(shop))


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
    # The heading in the reader's language, not werkzeug's English name (issue 12 point 1).
    title = f"{exc.code} — {error_name(exc.code)}"
    if "description" in vars(exc) and exc.code in (400, 409):
        message = exc.description  # the view said what is wrong
        return render_template("error.html", code=exc.code, title=title, message=message), exc.code
    messages = {
        400: gettext("The request was not understood. Reload the page and try again."),
        403: gettext("Your role does not give access to this page."),
        404: gettext("This page does not exist, or it belongs to another shop."),
        405: gettext("This address does not accept that request."),
        409: gettext("This cannot be done now. Go back to the start page and try again."),
        413: gettext("What you sent is too large."),
        429: gettext("Too many requests. Wait a minute and try again."),
        500: gettext("Something went wrong on our side. Try again in a moment."),
        503: gettext("The service is unavailable for a moment. Try again shortly."),
    }
    message = messages.get(exc.code)
    if message is None:  # the view's own words, else a generic hint (never werkzeug's English)
        message = exc.description if "description" in vars(exc) else None
        message = message or gettext("Go back to the start page and try again.")
    return render_template("error.html", code=exc.code, title=title, message=message), exc.code


def error_name(code: int | None) -> str:
    """Return the name of HTTP error ``code`` in the reader's language ("Page introuvable"
    for 404 in French); a generic "Error" for a code without its own (issue 12 point 1)."""
    names = {
        400: gettext("Bad request"),
        401: gettext("Login required"),
        403: gettext("Access refused"),
        404: gettext("Page not found"),
        405: gettext("Request not accepted"),
        409: gettext("Not possible now"),
        413: gettext("Too large"),
        429: gettext("Too many requests"),
        500: gettext("Server error"),
        503: gettext("Service unavailable"),
    }
    return names.get(code, gettext("Error"))


def refuse_nul_bytes() -> None:
    """Refuse a query or form holding a NUL byte: no text has one, and PostgreSQL rejects it."""
    for values in (request.args, request.form):
        if any("\x00" in value for _key, found in values.lists() for value in found):
            abort(400, description=gettext("Remove the invisible control characters."))


def init_app(app: Flask) -> None:
    """Register the filters, globals and error pages."""
    app.jinja_env.filters["phone"] = format_phone
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["localdate"] = localdate
    app.jinja_env.filters["localhour"] = localhour
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.filters["role_label"] = role_label
    app.jinja_env.globals.update(
        menu_links=menu_links, current_shop=current_shop, get_locale=get_locale
    )
    app.register_error_handler(HTTPException, error_page)
    # Before any view, so that no plugin's query meets a NUL byte.
    app.before_request(refuse_nul_bytes)
    access.init_app(app)
