"""The start page, the language switch and the operator's shop picker."""

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from host.access import current_shop, local_path
from host.extensions import db
from host.models import Company

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """Show the shop's start page."""
    shops = []
    if current_user.is_operator:
        shops = db.session.scalars(select(Company).order_by(Company.name)).all()
    return render_template("home.html", shop=current_shop(), shops=shops)


@bp.post("/shops/<int:company_id>/pick")
@login_required
def pick_shop(company_id: int):
    """Let the operator work on one shop."""
    if not current_user.is_operator:
        abort(404)
    db.get_or_404(Company, company_id)
    session["shop_id"] = company_id
    return redirect(url_for("home.index"))


@bp.get("/language/<code>")
def language(code: str):
    """Switch the interface language."""
    if code in ("en", "fr"):
        session["lang"] = code
    return redirect(local_path(request.args.get("next"), url_for("home.index")))
