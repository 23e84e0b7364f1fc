"""The start page, the language switch and the operator's shop picker.

The start page says what needs doing: the operator's list of shops, then every plugin's
``home_panels`` (issue 12, point 7). A page that needs a shop (``shop_required``) asks the
operator who picked none to pick one from a list, and comes back to the page once picked
(issue 12, point 8: no "409 Conflict" page behind a menu entry).
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import Conflict

from host.access import current_shop, local_path
from host.extensions import db
from host.models import Company
from host.regions import region_name
from host.templating import error_page

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """Show the shop's start page: what needs doing."""
    shop = current_shop()
    pm = current_app.extensions["plugin_manager"]
    panels = [
        panel
        for found in pm.hook.home_panels(user=current_user, shop=shop)
        for panel in found or ()
    ]
    return render_template(
        "home.html",
        shop=shop,
        shops=_shops() if current_user.is_operator else [],
        panels=panels,
        region_name=region_name,
    )


@bp.get("/shops/pick")
@login_required
def pick():
    """Ask the operator to pick the shop to work on, then go on to ``next``."""
    if not current_user.is_operator:
        abort(404)
    return _pick_page(local_path(request.args.get("next"), url_for("home.index")))


@bp.post("/shops/<int:company_id>/pick")
@login_required
def pick_shop(company_id: int):
    """Let the operator work on one shop, then go on to the page that asked for one."""
    if not current_user.is_operator:
        abort(404)
    db.get_or_404(Company, company_id)
    session["shop_id"] = company_id
    return redirect(local_path(request.form.get("next"), url_for("home.index")))


@bp.get("/language/<code>")
def language(code: str):
    """Switch the interface language."""
    if code in ("en", "fr"):
        session["lang"] = code
    return redirect(local_path(request.args.get("next"), url_for("home.index")))


@bp.app_errorhandler(Conflict)
def shop_needed(exc: Conflict):
    """Answer a page that needs a shop (``shop_required``), opened by the operator who picked
    none, with the list of shops to pick from; any other conflict with the error page."""
    if (
        request.method == "GET"
        and current_user.is_authenticated
        and current_user.is_operator
        and current_shop() is None
    ):
        return _pick_page(request.full_path.rstrip("?"))
    return error_page(exc)


def _shops() -> list[Company]:
    return list(db.session.scalars(select(Company).order_by(Company.name, Company.id)))


def _pick_page(next_path: str):
    return render_template(
        "pick_shop.html", shops=_shops(), next_path=next_path, region_name=region_name
    )
