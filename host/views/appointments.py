"""Appointments: book, move, change status, cancel."""

from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from host.access import get_in_shop_or_404, shop_filter, shop_required
from host.extensions import db
from host.forms import AppointmentForm, choices
from host.models import Appointment, AppointmentStatus, Company, Customer, Role, shop_zone
from host.regions import zone_label

bp = Blueprint("appointments", __name__, url_prefix="/appointments")

# A new booking may start this long before now: the walk-in booked at the time it is.
PAST_GRACE = timedelta(minutes=5)


@bp.get("/")
@login_required
def index():
    """List the shop's appointments, the coming ones first."""
    rows = db.session.scalars(
        shop_filter(select(Appointment), Appointment).order_by(Appointment.starts_at).limit(200)
    ).all()
    return render_template("appointments/index.html", appointments=rows)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Book an appointment."""
    shop = shop_required()
    appointment = Appointment(company_id=shop.id, status=AppointmentStatus.BOOKED)
    return _edit_form(appointment, shop)


@bp.route("/<int:appointment_id>", methods=["GET", "POST"])
@login_required
def edit(appointment_id: int):
    """Move an appointment or change its status."""
    appointment = get_in_shop_or_404(Appointment, appointment_id)
    return _edit_form(appointment, appointment.company)


@bp.post("/<int:appointment_id>/cancel")
@login_required
def cancel(appointment_id: int):
    """Cancel an appointment."""
    appointment = get_in_shop_or_404(Appointment, appointment_id)
    if appointment.status != AppointmentStatus.CANCELLED:
        appointment.status = AppointmentStatus.CANCELLED
        db.session.commit()
    flash(_("Appointment cancelled."))
    return redirect(url_for("appointments.edit", appointment_id=appointment.id))


def _bookable(form: AppointmentForm, appointment: Appointment, zone) -> bool:
    """Refuse booking a new appointment in the past (more than ``PAST_GRACE`` ago, for the
    walk-in booked at the time it is): a visit that never was is not booked, and no text
    tells a customer about it. A past visit is recorded with the status it has (in progress,
    ready, completed: no confirmation, no reminder); an existing one may be moved into the
    past."""
    starts = form.starts_at.data.replace(tzinfo=zone)
    ahead = form.status.data in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
    if appointment.id is None and ahead and starts < datetime.now(zone) - PAST_GRACE:
        past = _(
            "This time has passed: book an appointment for a time to come, or record a past "
            "visit with its status (in progress, ready, completed)."
        )
        form.starts_at.errors = [*form.starts_at.errors, past]
        return False
    return True


def _needs_zone(form: AppointmentForm, appointment: Appointment, zone_missing: bool) -> bool:
    """Refuse booking or moving an appointment while the shop's time zone is unknown (its
    country or province empty): the time typed could not be read in shop time, and would be
    stored as UTC (issue 12 point 3). An existing appointment may still change its status or
    vehicle at the time it has. Tell whether the save is refused; the page says where to fill
    the province in (``zone_missing``)."""
    if not zone_missing:
        return False
    if appointment.id is not None:
        # The form shows the stored time in UTC, to the minute: left as it is, it is no move.
        stored = appointment.starts_at.astimezone(UTC).replace(second=0, microsecond=0)
        if form.starts_at.data.replace(tzinfo=UTC) == stored:
            return False
    message = _(
        "The shop's time zone is unknown: fill in its country and province in Company "
        "management before booking or moving an appointment."
    )
    form.starts_at.errors = [*form.starts_at.errors, message]
    return True


def _company_url(shop: Company) -> str | None:
    """Return the address of ``shop``'s Company management if the user may edit it, else
    None (staff ask their administrator)."""
    if current_user.is_operator or current_user.role == Role.ADMIN:
        return url_for("companies.edit", company_id=shop.id)
    return None


def _edit_form(appointment: Appointment, shop: Company):
    """Show the appointment form in the shop's time zone; save it when valid."""
    zone = shop_zone(shop)
    form = AppointmentForm()
    customers = db.session.scalars(
        select(Customer).where(Customer.company_id == shop.id).order_by(Customer.last_name)
    ).all()
    form.customer_id.choices = choices((c.id, c.full_name) for c in customers)
    if request.method == "GET":
        if appointment.id:
            form.customer_id.data = appointment.customer_id
            form.starts_at.data = appointment.starts_at.astimezone(zone).replace(tzinfo=None)
            form.vehicle.data = appointment.vehicle
            form.status.data = appointment.status.value
        else:
            form.customer_id.data = request.args.get("customer_id", type=int)
    zone_missing = shop.time_zone is None
    if (
        form.validate_on_submit()
        and not _needs_zone(form, appointment, zone_missing)
        and _bookable(form, appointment, zone)
    ):
        appointment.customer_id = form.customer_id.data
        appointment.starts_at = form.starts_at.data.replace(tzinfo=zone).astimezone(UTC)
        appointment.vehicle = (form.vehicle.data or "").strip()
        appointment.status = AppointmentStatus(form.status.data)
        db.session.add(appointment)
        db.session.commit()
        flash(_("Appointment saved."))
        return redirect(url_for("appointments.edit", appointment_id=appointment.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "appointments/edit.html",
        form=form,
        appointment=appointment if appointment.id else None,
        zone=zone_label(shop.time_zone) if not zone_missing else None,
        zone_missing=zone_missing,
        company_url=_company_url(shop),
        no_customer=not customers,
        now=datetime.now(zone),
        panels=_panels(appointment) if appointment.id else [],
    ), status


def _panels(appointment: Appointment) -> list:
    """Return what plugins show below the appointment's form (``appointment_panels``)."""
    pm = current_app.extensions["plugin_manager"]
    return [
        panel for found in pm.hook.appointment_panels(appointment=appointment) for panel in found
    ]
