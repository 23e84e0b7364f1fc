"""The customer's SMS tab: messages with statuses and their histories, the consent ledger and
opt-outs of the customer's phone, and the compose box.

Every moment is in the shop's time and every stored code (a reason, a ledger value) is
read in the reader's language (issue 12, points 1 and 2)."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from host.api import Customer, customer_tabs, db, get_in_shop_or_404, localtime
from plugins.sms_module.compliance import consent, opt_out, rules
from plugins.sms_module.compliance.opt_out import is_opted_out
from plugins.sms_module.models import SmsMessage, Status
from plugins.sms_module.models.statuses import is_refusal
from plugins.sms_module.sending import service, withdrawal
from plugins.sms_module.texts import labels, reasons
from plugins.sms_module.texts.preview import LABELS, preview, refused_label, status_label
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
        .options(selectinload(SmsMessage.history))
        .order_by(SmsMessage.id.desc())
        .limit(200)
    ).all()
    why_canceled = withdrawal.reasons(messages)
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
        why={m.id: _why(m, why_canceled, company) for m in messages},
        histories={m.id: _history(m, company) for m in messages},
        consent_lines=[_consent_line(e, company) for e in consent.history(customer.id)],
        opt_out_lines=[
            _opt_out_line(e, company)
            for e in (opt_out.events(customer.mobile_phone) if customer.mobile_phone else [])
        ],
    )


def _why(message: SmsMessage, why_canceled: dict[int, str], company) -> str:
    """Say why a message failed, was refused or canceled, in the reader's language."""
    if message.failure_code or message.failure_reason:
        return reasons.failure_text(message.failure_code, message.failure_reason)
    if message.id in why_canceled:
        return reasons.history_text(None, why_canceled[message.id], company)
    return ""


def _history(message: SmsMessage, company) -> list[dict]:
    """Return the message's status history as people read it: shop time, the status's label
    ("Refused" for a rule's refusal), who made the step and what it says."""
    refusal = is_refusal(message.status, message.failure_code)
    return [
        {
            "at": localtime(step.at, company),
            "status": refused_label()
            if refusal and step.status == Status.FAILED
            else str(LABELS[step.status]),
            "source": labels.source_label(step.source),
            "detail": reasons.history_text(step.source, step.detail, company),
        }
        for step in message.history
    ]


def _consent_line(event, company) -> dict:
    """Return a consent ledger line as people read it (labels, shop time)."""
    return {
        "event": labels.consent_kind_label(event.kind),
        "method": labels.consent_method_label(event.method),
        "obtained_at": consent.obtained_day(event),  # the template writes it (``localdate``)
        "reference": event.reference or "",
        "recorded_by": event.recorded_by.email if event.recorded_by else "",
        "recorded_at": localtime(event.recorded_at, company),
    }


def _opt_out_line(event, company) -> dict:
    """Return an opt-out list event of the customer's phone as people read it."""
    return {
        "action": labels.opt_out_action_label(event.action),
        "source": labels.source_label(event.source),
        "said": event.raw_message or "",
        "at": localtime(event.at, company),
    }
