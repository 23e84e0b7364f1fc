"""The shop's message templates: each event on or off, its English and French text, a preview."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from host.api import Company, Role, current_shop, db, roles_required, utcnow
from plugins.sms_module.models import SmsTemplate
from plugins.sms_module.texts import templates
from plugins.sms_module.texts.preview import preview as segment_preview

bp = Blueprint(
    "sms_templates", __name__, url_prefix="/sms/settings/templates", template_folder="../templates"
)

EVENT_LABELS = {
    templates.APPOINTMENT_BOOKED: _l("Appointment booked"),
    templates.APPOINTMENT_MOVED: _l("Appointment moved"),
    templates.APPOINTMENT_CANCELLED: _l("Appointment cancelled"),
    templates.APPOINTMENT_REMINDER: _l("Appointment reminder"),
    templates.VEHICLE_READY: _l("Vehicle ready"),
    templates.INVOICE_PRINTED: _l("Invoice printed"),
    templates.WELCOME: _l("Welcome (consent given)"),
}
# Each language named in the reader's language ("Anglais" on a French page; issue 12 point 1).
LANGUAGE_NAMES = {"en": _l("English"), "fr": _l("French")}


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    """List every event with its state and its text in each language."""
    shop = _shop()
    events = []
    for event in templates.EVENTS:
        texts = {lang: templates.current_body(shop.id, event, lang) for lang in LANGUAGE_NAMES}
        enabled = templates.event_enabled(shop.id, event)
        events.append({"event": event, "label": EVENT_LABELS[event], "enabled": enabled, **texts})
    return render_template(
        "sms_module/message_templates.html", shop=shop, events=events, languages=LANGUAGE_NAMES
    )


@bp.post("/<event>/enabled")
@roles_required(Role.ADMIN)
def set_enabled(event: str):
    """Switch an event on or off for the shop, in both languages."""
    shop = _shop()
    _check(event)
    value = request.form.get("enabled")
    if value not in ("0", "1"):
        abort(400, description=_("Choose on or off for the message."))

    def change(row: SmsTemplate) -> None:
        row.enabled = value == "1"

    _save(shop, event, tuple(LANGUAGE_NAMES), change)
    flash(
        _("%(event)s: on.", event=EVENT_LABELS[event])
        if value == "1"
        else _("%(event)s: off, this message is not sent.", event=EVENT_LABELS[event])
    )
    return redirect(url_for("sms_templates.index"))


@bp.get("/<event>/<language>")
@roles_required(Role.ADMIN)
def edit(event: str, language: str):
    """Show the editor of one (event, language) template."""
    shop = _shop()
    _check(event, language)
    body, _custom = templates.current_body(shop.id, event, language)
    return _edit_page(shop, event, language, body, [])


@bp.post("/<event>/<language>")
@roles_required(Role.ADMIN)
def save(event: str, language: str):
    """Save the shop's own text, refused with the reasons when it cannot be sent."""
    shop = _shop()
    _check(event, language)
    body = _body_from(request.form.get("body"))
    errors = templates.validate_body(body, event)
    if errors:
        return _edit_page(shop, event, language, body, errors), 422

    def change(row: SmsTemplate) -> None:
        row.body = body

    _save(shop, event, (language,), change)
    flash(_("Template saved."))
    return redirect(url_for("sms_templates.index"))


@bp.post("/<event>/<language>/reset")
@roles_required(Role.ADMIN)
def reset(event: str, language: str):
    """Go back to the built-in text."""
    shop = _shop()
    _check(event, language)

    def change(row: SmsTemplate) -> None:
        row.body = None

    _save(shop, event, (language,), change)
    flash(_("The built-in text is back."))
    return redirect(url_for("sms_templates.index"))


@bp.post("/<event>/<language>/preview")
@roles_required(Role.ADMIN)
def preview(event: str, language: str):
    """Fill a template being written with sample values; return the text and its segments."""
    shop = _shop()
    _check(event, language)
    payload = request.get_json(silent=True)
    raw = payload.get("body") if isinstance(payload, dict) else request.form.get("body")
    if not isinstance(raw, str):
        return jsonify(error={"code": "invalid_body", "message": _("Send the text as body.")}), 400
    text, errors = _sample(shop, event, language, _body_from(raw))
    if errors:
        message = " ".join(errors)
        return jsonify(error={"code": "invalid_template", "message": message}, errors=errors), 422
    result, status = segment_preview(text)
    result["text"] = text
    return jsonify(result), status


def _shop() -> Company:
    shop = current_shop()
    if shop is None:
        abort(409, description=_("Pick a shop on the Shops page first."))
    return shop


def _check(event: str, language: str = "en") -> None:
    if event not in templates.EVENTS or language not in LANGUAGE_NAMES:
        abort(404)


def _body_from(raw: str | None) -> str:
    # Browsers send CRLF; a carriage return would count as a character of the SMS.
    return (raw or "").replace("\r\n", "\n").replace("\r", "\n")


def _sample(shop: Company, event: str, language: str, body: str) -> tuple[str, list[str]]:
    errors = templates.validate_body(body, event)
    if errors:
        return "", errors
    try:  # the shop's own name in the sample: bounded while it renders too
        return templates.render_body(body, templates.sample_variables(shop, language)), []
    except Exception as exc:  # the shop's values may fail where the samples passed: never 500
        return "", [templates.fill_error(exc, body)]


def _save(
    shop: Company, event: str, languages: tuple[str, ...], change: Callable[[SmsTemplate], None]
) -> None:
    """Apply ``change`` to the shop's rows of ``event`` (created as needed) and commit."""
    for attempt in range(2):
        enabled = templates.event_enabled(shop.id, event)
        saved = {row.language: row for row in templates.rows(shop.id, event)}
        for language in languages:
            row = saved.get(language) or SmsTemplate(
                company_id=shop.id, event=event, language=language, enabled=enabled
            )
            change(row)
            row.updated_by_id, row.updated_at = current_user.id, utcnow()
            db.session.add(row)
        try:
            db.session.commit()
            return
        except IntegrityError:  # another admin created the row meanwhile: apply to theirs
            db.session.rollback()
            if attempt:
                raise


def _edit_page(shop: Company, event: str, language: str, body: str, errors: list[str]):
    sample, sample_errors = _sample(shop, event, language, body) if not errors else ("", [])
    counts = segment_preview(sample)[0] if sample else None
    return render_template(
        "sms_module/message_template_edit.html",
        shop=shop,
        event=event,
        event_label=EVENT_LABELS[event],
        language=language,
        language_name=LANGUAGE_NAMES[language],
        body=body,
        custom=templates.current_body(shop.id, event, language)[1],
        errors=errors or sample_errors,
        sample=sample,
        counts=counts,
        variables=[
            (name, _(templates.VARIABLES[name])) for name in templates.EVENT_VARIABLES[event]
        ],
        filters=templates.FILTERS,
        default_body=templates.DEFAULTS[event][language],
    )
