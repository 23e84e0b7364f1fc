"""Messages waiting to leave, shown where the shop looks (the customer's SMS tab, the
appointment page) with when each leaves, and the shop's cancel of one of them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from host.api import Appointment, db, get_in_shop_or_404
from plugins.sms_module.compliance import rules
from plugins.sms_module.models import SmsMessage, Source, Withdrawal
from plugins.sms_module.sending import withdrawal
from plugins.sms_module.texts.preview import status_label

bp = Blueprint("sms_scheduled", __name__, url_prefix="/sms", template_folder="../templates")


def panel(messages: list, company, back: str) -> Markup:
    """Return the table of ``messages`` waiting to leave, each with its send time (shop time)
    and a Cancel button that returns to ``back`` ("customer" or "appointment")."""
    return Markup(
        render_template(
            "sms_module/_scheduled.html",
            waiting=messages,
            company=company,
            back=back,
            status_label=status_label,
        )
    )


def appointment_panels(appointment: Appointment) -> list[Markup]:
    """The appointment page's panel: the texts about it that have not left yet (none for a
    shop whose module is off and that has nothing waiting)."""
    messages = withdrawal.waiting(appointment_id=appointment.id)
    if not messages and not rules.module_on(appointment.company_id):
        return []
    return [panel(messages, appointment.company, "appointment")]


@bp.post("/messages/<int:message_id>/cancel")
@login_required
def cancel(message_id: int):
    """Cancel one message that has not left; a message already with the carrier stays."""
    message = get_in_shop_or_404(SmsMessage, message_id)
    if message.company_id is None:
        abort(404)
    reason = f"{Withdrawal.BY_STAFF}: {current_user.email}"
    if withdrawal.cancel_one(message.id, Source.STAFF, reason):
        flash(_("The SMS is canceled: it will not be sent."))
    else:
        flash(_("This SMS can no longer be canceled: it has already left."), "error")
    message = db.session.get(SmsMessage, message_id)
    if request.form.get("back") == "appointment" and message.appointment_id is not None:
        return redirect(url_for("appointments.edit", appointment_id=message.appointment_id))
    if message.customer_id is not None:
        return redirect(url_for("sms_customer.show", customer_id=message.customer_id))
    return redirect(url_for("home.index"))
