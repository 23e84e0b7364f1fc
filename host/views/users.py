"""Users and roles of a shop (shop administrators and the operator)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import func, select

from host.access import get_in_shop_or_404, roles_required, shop_filter, shop_required
from host.extensions import db
from host.forms import UserForm
from host.models import Role, User

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    """List the shop's users."""
    rows = db.session.scalars(shop_filter(select(User), User).order_by(User.email)).all()
    return render_template("users/index.html", users=rows)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new():
    """Add a user to the shop."""
    shop = shop_required()
    return _edit_form(User(company_id=shop.id, active=True))


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(user_id: int):
    """Change a user's name, role, password or access."""
    user = get_in_shop_or_404(User, user_id)
    if user.is_operator:
        return redirect(url_for("users.index"))
    return _edit_form(user)


def _edit_form(user: User):
    """Show the user form; save it when valid."""
    form = UserForm(obj=user if user.id else None)
    if request.method == "GET" and user.id:
        form.role.data = user.role.value
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        taken = db.session.scalar(
            select(User.id).where(func.lower(User.email) == email, User.id != (user.id or 0))
        )
        if taken:
            form.email.errors = [_("Another user already has this e-mail.")]
        elif not user.id and not form.password.data:
            form.password.errors = [_("Give the new user a password (8 characters or more).")]
        elif user.id == current_user.id and (form.role.data != Role.ADMIN or not form.active.data):
            # Nobody may lock themselves out of the shop's administration.
            form.role.errors = [_("You cannot take away your own administrator access.")]
        else:
            user.email, user.name = email, (form.name.data or "").strip()
            # A change of access ends every session of the user (``User._active_changed``).
            user.role, user.active = Role(form.role.data), form.active.data
            if form.password.data:
                user.set_password(form.password.data)  # ends every session of the user
            db.session.add(user)
            db.session.commit()
            if form.password.data and user.id == current_user.id:
                login_user(user)  # but this one: who changed it stays logged in here
            flash(_("User saved."))
            return redirect(url_for("users.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("users/edit.html", form=form, user=user if user.id else None), status
