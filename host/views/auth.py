"""Log in and out."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user
from sqlalchemy import func, select

from host.access import local_path
from host.extensions import db, login_manager
from host.forms import LoginForm
from host.models import User

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    """Load the logged-in user from the session."""
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log a user in with e-mail and password."""
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == form.email.data.strip().lower())
        )
        if user and user.active and user.check_password(form.password.data):
            login_user(user)
            return redirect(local_path(request.args.get("next"), url_for("home.index")))
        flash(_("Wrong e-mail or password."), "error")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Log the user out."""
    logout_user()
    return redirect(url_for("auth.login"))
