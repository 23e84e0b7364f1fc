"""The shop's SMS settings page: module state, API tokens, consent ledger; the operator's price."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from host.api import (
    Company,
    InvalidPhone,
    Role,
    csv_response,
    current_shop,
    db,
    get_in_shop_or_404,
    mail_configured,
    normalize_phone,
    roles_required,
    shop_required,
    text_problem,
)
from plugins.sms_module.api import tokens
from plugins.sms_module.compliance import consent, rules
from plugins.sms_module.conversations.answers import contact_phone
from plugins.sms_module.conversations.forwarding import split_emails
from plugins.sms_module.models import ApiToken, ShopSmsSettings
from plugins.sms_module.notifications.reminders import reminder_hours
from plugins.sms_module.texts import pricing as prices

MIN_REMINDER_HOURS, MAX_REMINDER_HOURS = 1, 168
MAX_FORWARD_EMAILS = 10

bp = Blueprint("sms_settings", __name__, url_prefix="/sms/settings", template_folder="../templates")


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    """Show the shop's SMS settings."""
    return _render()


@bp.post("/tokens")
@roles_required(Role.ADMIN)
def create_token():
    """Create an API token for the shop and show it once."""
    shop = shop_required()
    name = request.form.get("name", "").strip()
    if not name or len(name) > 100:
        flash(
            _("Name the token (100 characters at most), e.g. the program that will use it."),
            "error",
        )
        return _render(), 422
    problem = text_problem(name)  # a name may reach an e-mail header (issue 13 §10)
    if problem is not None:
        flash(str(problem), "error")
        return _render(), 422
    _row, text = tokens.create_token(shop.id, name, current_user.id)
    flash(_("Copy the token now: it will not be shown again."))
    return _render(new_token=text)


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required(Role.ADMIN)
def revoke_token(token_id: int):
    """Revoke an API token."""
    row = get_in_shop_or_404(ApiToken, token_id)
    tokens.revoke_token(row)
    flash(_("Token revoked."))
    return redirect(url_for("sms_settings.index"))


@bp.get("/consent.csv")
@roles_required(Role.ADMIN, Role.STAFF)
def consent_ledger():
    """Export the shop's consent ledger as CSV (the audit pack)."""
    shop = current_shop()
    if shop is None and not current_user.is_operator:
        abort(404)
    rows = consent.ledger_rows(shop.id if shop else None)
    return csv_response("sms-consent-ledger.csv", consent.LEDGER_COLUMNS, rows)  # streamed


@bp.post("/reminders")
@roles_required(Role.ADMIN)
def reminders():
    """Set how many hours before an appointment its reminder goes."""
    shop = shop_required()
    text = request.form.get("reminder_hours_before", "").strip()
    if not text.isdigit() or not MIN_REMINDER_HOURS <= int(text) <= MAX_REMINDER_HOURS:
        flash(
            _(
                "The reminder goes between %(low)s and %(high)s hours before the appointment.",
                low=MIN_REMINDER_HOURS,
                high=MAX_REMINDER_HOURS,
            ),
            "error",
        )
        return _render(), 422
    row = db.session.get(ShopSmsSettings, shop.id) or ShopSmsSettings(company_id=shop.id)
    row.reminder_hours_before = int(text)
    db.session.add(row)
    db.session.commit()
    flash(_("Reminder saved: it applies to appointments booked or moved from now on."))
    return redirect(url_for("sms_settings.index"))


@bp.post("/replies")
@roles_required(Role.ADMIN)
def replies():
    """Say where customers' replies are forwarded: e-mail addresses and/or a cell number."""
    shop = shop_required()
    emails, errors = [], []
    for address in split_emails(request.form.get("forward_emails", "")):
        try:
            emails.append(validate_email(address, check_deliverability=False).normalized)
        except EmailNotValidError:
            errors.append(_("%(address)s is not an e-mail address.", address=address))
    if len(emails) > MAX_FORWARD_EMAILS:
        errors.append(_("Forward to %(count)s addresses at most.", count=MAX_FORWARD_EMAILS))
    cell = request.form.get("forward_phone", "").strip()
    if cell:
        try:
            cell = normalize_phone(cell, shop.country)
        except InvalidPhone:
            errors.append(_("%(phone)s is not a valid cell number, e.g. 514 555 0123.", phone=cell))
    if errors:
        for error in errors:
            flash(error, "error")
        return _render(), 422
    row = db.session.get(ShopSmsSettings, shop.id) or ShopSmsSettings(company_id=shop.id)
    row.forward_emails = "\n".join(emails) or None
    row.forward_phone = cell or None
    db.session.add(row)
    db.session.commit()
    flash(_("Reply forwarding saved."))
    return redirect(url_for("sms_settings.index"))


@bp.post("/contact")
@roles_required(Role.ADMIN)
def contact():
    """Set the number the answer to HELP gives customers (PRODUCT.md §5; CTIA: HELP names a
    contact); empty: the platform's ``SMS_HELP_PHONE``, if set."""
    shop = shop_required()
    phone = request.form.get("contact_phone", "").strip()
    if phone:
        try:
            phone = normalize_phone(phone, shop.country)
        except InvalidPhone:
            flash(
                _("%(phone)s is not a valid phone number, e.g. 514 555 0123.", phone=phone),
                "error",
            )
            return _render(), 422
    row = db.session.get(ShopSmsSettings, shop.id) or ShopSmsSettings(company_id=shop.id)
    row.contact_phone = phone or None
    db.session.add(row)
    db.session.commit()
    flash(_("Contact number saved: the answer to HELP gives it."))
    return redirect(url_for("sms_settings.index"))


@bp.post("/pricing")
@roles_required()
def pricing():
    """Set the price per segment (operator only), typed in the reader's number format
    ("0,02" in French, "0.02" in either: ``texts.pricing.parse_price``)."""
    try:
        amount = prices.parse_price(request.form.get("price_per_segment", ""))
        prices.set_pricing(amount, request.form.get("currency", ""))
    except ValueError as exc:
        flash(str(exc), "error")
        return _render(), 422
    flash(_("Price per segment saved."))
    return redirect(url_for("sms_settings.index"))


def _render(new_token: str | None = None):
    shop = current_shop()
    rows = []
    if shop is not None:
        rows = db.session.scalars(
            select(ApiToken).where(ApiToken.company_id == shop.id).order_by(ApiToken.id.desc())
        ).all()
    current = prices.pricing()
    return render_template(
        "sms_module/settings.html",
        shop=shop,
        shops=_shops() if shop is None and current_user.is_operator else [],
        price_text=prices.price_text(current.price_per_segment, current.currency),
        currency_name=prices.currency_name(current.currency),
        currencies=sorted(
            ((code, prices.currency_name(code)) for code in prices.currencies_in_use()),
            key=lambda pair: pair[0],
        ),
        **rules.shop_state(shop).page_context(),
        tokens=rows,
        new_token=new_token,
        pricing=current,
        price_input=prices.price_input(current.price_per_segment),
        max_price=prices.decimal_text(prices.MAX_PRICE),
        price_places=prices.PRICE_PLACES,
        reminder_hours=reminder_hours(shop.id) if shop else None,
        forwarding=db.session.get(ShopSmsSettings, shop.id) if shop else None,
        help_phone=contact_phone(None),
        mail_configured=mail_configured(),
    )


def _shops() -> list[Company]:
    """The shops the operator may pick to see their settings, by name."""
    return list(db.session.scalars(select(Company).order_by(Company.name, Company.id)))
