"""The customer's SMS tab: messages with statuses, and the compose box."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from host.api import Customer, customer_tabs, db, get_in_shop_or_404
from plugins.sms_module.compliance import consent, rules
from plugins.sms_module.compliance.opt_out import is_opted_out
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.sending import service, withdrawal
from plugins.sms_module.texts.preview import preview, status_label, withdrawal_label
from plugins.sms_module.views import scheduled

bp = Blueprint(
    "sms_customer",
    __name__,
    url_prefix="/sms",
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/static",
)


@bp.get("/customers/<int:customer_id>")
@login_required
def show(customer_id: int):
    """Show the customer's SMS tab."""
    customer = get_in_shop_or_404(Customer, customer_id)
    return _render(customer, body="")


@bp.post("/customers/<int:customer_id>/send")
@login_required
def send(customer_id: int):
    """Send an SMS to the customer through the transactional queue."""
    customer = get_in_shop_or_404(Customer, customer_id)
    body = request.form.get("body", "")
    try:
        service.request_send(
            customer.company, customer=customer, body=body, user_id=current_user.id
        )
    except service.SendRefused as refused:
        flash(refused.message, "error")
        return _render(customer, body=body), 422
    flash(_("The SMS is scheduled: it leaves as soon as a sender number is free."))
    return redirect(url_for("sms_customer.show", customer_id=customer.id))


@bp.post("/segments")
@login_required
def segments():
    """Count the segments and price of a text being written (for the compose box)."""
    payload = request.get_json(silent=True)
    body = payload.get("body") if isinstance(payload, dict) else request.form.get("body")
    if not isinstance(body, str):
        return jsonify(error={"code": "invalid_body", "message": _("Send the text as body.")}), 400
    result, status = preview(body)
    return jsonify(result), status


def _render(customer: Customer, body: str):
    company = customer.company
    messages = db.session.scalars(
        select(SmsMessage)
        .where(SmsMessage.customer_id == customer.id)
        .order_by(SmsMessage.id.desc())
        .limit(200)
    ).all()
    return render_template(
        "sms_module/customer_sms.html",
        customer=customer,
        tabs=customer_tabs(customer),
        messages=messages,
        status_label=status_label,
        body=body,
        **rules.shop_state(company).page_context(),
        has_consent=consent.has_consent(customer.id),
        opted_out=bool(customer.mobile_phone and is_opted_out(customer.mobile_phone)),
        preview=preview(body)[0] if body else None,
        scheduled=scheduled.panel(withdrawal.waiting(customer_id=customer.id), company, "customer"),
        why_canceled={
            mid: withdrawal_label(detail) or detail
            for mid, detail in withdrawal.reasons(messages).items()
        },
    )
