"""Customer management: list, search, and the customer's tabs."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import and_, or_, select

from host.access import get_in_shop_or_404, shop_filter, shop_required
from host.events import mark_saved
from host.extensions import db
from host.forms import CustomerForm
from host.models import Appointment, Customer, Invoice, search_fold

bp = Blueprint("customers", __name__, url_prefix="/customers")

PAGE_SIZE = 50


@bp.get("/")
@login_required
def index():
    """List and search the shop's customers."""
    q = request.args.get("q", "").strip()[:100]
    query = shop_filter(select(Customer), Customer)
    if q:
        query = query.where(search_condition(q))
    customers = db.session.scalars(
        query.order_by(Customer.last_name, Customer.first_name).limit(PAGE_SIZE)
    ).all()
    return render_template("customers/index.html", customers=customers, q=q)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Create a customer."""
    shop = shop_required()
    return _edit_form(Customer(company_id=shop.id), shop.country)


@bp.route("/<int:customer_id>", methods=["GET", "POST"])
@login_required
def show(customer_id: int):
    """Show and save the Customer Information tab."""
    customer = get_in_shop_or_404(Customer, customer_id)
    return _edit_form(customer, customer.company.country)


@bp.get("/<int:customer_id>/appointments")
@login_required
def appointments(customer_id: int):
    """Show the customer's appointments tab."""
    customer = get_in_shop_or_404(Customer, customer_id)
    rows = db.session.scalars(
        select(Appointment)
        .where(Appointment.customer_id == customer.id)
        .order_by(Appointment.starts_at.desc())
    ).all()
    return render_template(
        "customers/appointments.html",
        customer=customer,
        appointments=rows,
        tabs=customer_tabs(customer),
    )


@bp.get("/<int:customer_id>/invoices")
@login_required
def invoices(customer_id: int):
    """Show the customer's invoices tab."""
    customer = get_in_shop_or_404(Customer, customer_id)
    rows = db.session.scalars(
        select(Invoice).where(Invoice.customer_id == customer.id).order_by(Invoice.id.desc())
    ).all()
    return render_template(
        "customers/invoices.html", customer=customer, invoices=rows, tabs=customer_tabs(customer)
    )


# What a typed phone number may hold besides its digits: "(514) 555-0123", "+1 514.555".
PHONE_PUNCTUATION = frozenset(" ()+-.")


def search_condition(q: str):
    """Return the SQL condition of the customer search for ``q``: the customer's names,
    e-mail and phone hold each word of ``q``, in any order ("tremblay marie" finds Marie
    Tremblay), with accents and case ignored ("cote" finds "Côté"), every character literal
    ("50%" is no wildcard: ``autoescape``); a typed phone number, with any spaces, dashes or
    brackets, is also looked for by its digits. The same SQL on SQLite and PostgreSQL (a LIKE
    on ``Customer.search_text``). Issue 12 point 5."""
    words = search_fold(q).split() or [""]
    condition = and_(*(Customer.search_text.contains(w, autoescape=True) for w in words))
    digits = "".join(c for c in q if c.isdigit())
    if digits and all(c.isdigit() or c in PHONE_PUNCTUATION for c in q):
        condition = or_(condition, Customer.mobile_phone.contains(digits, autoescape=True))
    return condition


def customer_tabs(customer: Customer) -> list:
    """Return the tabs plugins add to the customer's page."""
    pm = current_app.extensions["plugin_manager"]
    return [tab for tabs in pm.hook.customer_tabs(customer=customer) for tab in tabs]


def _edit_form(customer: Customer, country: str | None):
    """Show the Customer Information form with plugin fields; save it when valid."""
    form = CustomerForm(obj=customer if customer.id else None)
    form.mobile_phone.region = country or "CA"
    pm = current_app.extensions["plugin_manager"]
    existing = customer if customer.id else None
    fields = [f for found in pm.hook.customer_fields(customer=existing) for f in found]
    field_errors: list[str] = []
    if request.method == "POST":
        form_ok = form.validate_on_submit()
        for f in fields:
            field_errors.extend(f.validate(existing, request.form))
        if form_ok and not field_errors:
            customer.first_name = form.first_name.data.strip()
            customer.last_name = (form.last_name.data or "").strip()
            customer.mobile_phone = (form.mobile_phone.data or "").strip() or None
            customer.email = (form.email.data or "").strip() or None
            customer.language = form.language.data or None
            db.session.add(customer)
            db.session.flush()  # plugin fields need the customer's id
            for f in fields:
                f.apply(customer, request.form, current_user)
            # The save fires customer_saved even when only a plugin field changed.
            mark_saved(db.session, customer)
            db.session.commit()
            flash(_("Customer saved."))
            return redirect(url_for("customers.show", customer_id=customer.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "customers/show.html",
        form=form,
        customer=existing,
        fields=fields,
        field_errors=field_errors,
        form_data=request.form if request.method == "POST" else None,
        tabs=customer_tabs(existing) if existing else [],
    ), status
