"""Invoices: create, show, print (printing fires ``invoice_printed``)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from host.access import get_in_shop_or_404, shop_filter, shop_required
from host.extensions import db
from host.forms import InvoiceForm, choices
from host.models import Customer, Invoice, utcnow

bp = Blueprint("invoices", __name__, url_prefix="/invoices")


@bp.get("/")
@login_required
def index():
    """List the shop's invoices, newest first."""
    rows = db.session.scalars(
        shop_filter(select(Invoice), Invoice).order_by(Invoice.id.desc()).limit(200)
    ).all()
    return render_template("invoices/index.html", invoices=rows)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Create an invoice."""
    shop = shop_required()
    form = InvoiceForm()
    customers = db.session.scalars(
        select(Customer).where(Customer.company_id == shop.id).order_by(Customer.last_name)
    ).all()
    form.customer_id.choices = choices((c.id, c.full_name) for c in customers)
    if request.method == "GET":
        form.customer_id.data = request.args.get("customer_id", type=int)
    if form.validate_on_submit():
        taken = db.session.scalar(
            select(Invoice.id).where(
                Invoice.company_id == shop.id, Invoice.number == form.number.data.strip()
            )
        )
        if taken:
            form.number.errors = [_("This invoice number is already used.")]
        else:
            invoice = Invoice(
                company_id=shop.id,
                customer_id=form.customer_id.data,
                number=form.number.data.strip(),
                total=form.total.data,
            )
            db.session.add(invoice)
            try:
                db.session.commit()
            except IntegrityError:
                # Another user took the number between the check and the commit.
                db.session.rollback()
                form.number.errors = [_("This invoice number is already used.")]
            else:
                flash(_("Invoice created."))
                return redirect(url_for("invoices.show", invoice_id=invoice.id))
    status = 422 if request.method == "POST" else 200
    return render_template("invoices/new.html", form=form, no_customer=not customers), status


@bp.get("/<int:invoice_id>")
@login_required
def show(invoice_id: int):
    """Show an invoice."""
    invoice = get_in_shop_or_404(Invoice, invoice_id)
    return render_template("invoices/show.html", invoice=invoice)


@bp.post("/<int:invoice_id>/print")
@login_required
def print_invoice(invoice_id: int):
    """Record a print of the invoice, then show the printable page."""
    invoice = get_in_shop_or_404(Invoice, invoice_id)
    invoice.print_count = (invoice.print_count or 0) + 1
    invoice.printed_at = utcnow()
    db.session.commit()
    return redirect(url_for("invoices.printable", invoice_id=invoice.id))


@bp.get("/<int:invoice_id>/printable")
@login_required
def printable(invoice_id: int):
    """Show the print view of an invoice."""
    invoice = get_in_shop_or_404(Invoice, invoice_id)
    return render_template("invoices/printable.html", invoice=invoice)
