"""Who sees what: a shop user sees their shop only; the operator sees every shop."""

from __future__ import annotations

from functools import wraps

from flask import Flask, abort, session
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import IntegerConverter

from host.extensions import db
from host.models import Company, Role


def current_shop() -> Company | None:
    """Return the shop being worked on: the user's own, or the one the operator picked."""
    if not current_user.is_authenticated:
        return None
    if not current_user.is_operator:
        return current_user.company
    shop_id = session.get("shop_id")
    return db.session.get(Company, shop_id) if shop_id else None


def shop_required() -> Company:
    """Return the current shop, or send the operator to pick one first."""
    shop = current_shop()
    if shop is None:
        abort(409, description=_("Pick a shop on the start page first."))
    return shop


def get_in_shop_or_404(model, object_id: int):
    """Load ``model`` ``object_id`` if the user may see it; 404 otherwise (never 403)."""
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    if not current_user.is_operator and obj.company_id != current_user.company_id:
        abort(404)
    return obj


def local_path(target: str | None, default: str) -> str:
    """Return ``target`` if it is a path on this site, else ``default`` (no open redirect)."""
    target = target or ""
    if (
        not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(c == "\\" or ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        return default
    return target


def shop_filter(query, model):
    """Restrict ``query`` on ``model`` to the current shop."""
    return query.where(model.company_id == shop_required().id)


def roles_required(*roles: Role):
    """Allow the view to logged-in users with one of ``roles`` (the operator always)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.is_operator and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


class DatabaseIdConverter(IntegerConverter):
    """An ``int`` URL part that fits a database id, so a huge number is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Make every ``<int:...>`` URL part, the plugins' too, fit a database id."""
    app.url_map.converters["int"] = DatabaseIdConverter
