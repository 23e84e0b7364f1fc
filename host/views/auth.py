"""Log in and out."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from host.access import local_path
from host.extensions import db, login_manager
from host.forms import LoginForm
from host.login_throttle import login_throttle
from host.models import User
from host.users import authenticate

bp = Blueprint("auth", __name__)

# Flask-Login's message on a page that needs a login, in the reader's language: translated
# when flashed, in the request (issue 12 point 1).
login_manager.login_message = _l("Please log in to access this page.")
login_manager.localize_callback = str


@login_manager.user_loader
def load_user(user_id: str):
    """Load the logged-in user from the session's ``"<id>:<session version>"``; a cookie
    naming an older version (before a logout or a new password) loads nobody."""
    ident, _sep, version = user_id.partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or (user.session_version or 0) != int(version):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log a user in with e-mail and password; too many failures (per e-mail and per
    address, ``host/login_throttle.py``) answer 429 until the window lets them try again.
    The address is the client's as the trusted proxies report it (``CRMHOST_TRUSTED_PROXIES``,
    ``host/security.py``)."""
    form = LoginForm()
    status = 422 if request.method == "POST" else 200
    headers = {}
    if form.validate_on_submit():
        email, address = form.email.data, request.remote_addr
        # Counted before the password is checked: parallel guesses cannot all get past.
        wait = login_throttle().attempt(email, address)
        if wait:
            minutes = -(-wait // 60)
            flash(
                ngettext(
                    "Too many failed logins. Try again in %(num)d minute.",
                    "Too many failed logins. Try again in %(num)d minutes.",
                    minutes,
                ),
                "error",
            )
            status, headers = 429, {"Retry-After": str(wait)}
        elif user := authenticate(email, form.password.data):
            login_throttle().succeeded(email, address)  # only failures stay counted
            login_user(user)
            return redirect(local_path(request.args.get("next"), url_for("home.index")))
        else:
            flash(_("Wrong e-mail or password."), "error")
    return render_template("auth/login.html", form=form), status, headers


@bp.post("/logout")
@login_required
def logout():
    """Log the user out of every session they have (every browser, every device)."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))
