"""The "Accepts communications by SMS" box on the Customer Information tab (§4)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup

from host.api import CustomerField, current_shop, shop_zone
from plugins.sms_module.compliance import consent
from plugins.sms_module.models import ConsentMethod
from plugins.sms_module.texts.labels import consent_kind_label, consent_method_label

PREFIX = "sms_consent"


class ConsentField(CustomerField):
    """Ticking records express consent with its evidence; unticking records a withdrawal."""

    name = PREFIX

    def render(self, customer, form_data: Mapping[str, str] | None) -> Markup:
        current = bool(customer and consent.has_consent(customer.id))
        ticked = (PREFIX in form_data) if form_data is not None else current
        return Markup(
            render_template(
                "sms_module/consent_field.html",
                ticked=ticked,
                current=current,
                data=form_data or {},
                methods=list(ConsentMethod),
                history=consent.history(customer.id) if customer else [],
                # Labels in the reader's language, moments in the shop's time (issue 12).
                kind_label=consent_kind_label,
                method_label=consent_method_label,
                obtained_day=consent.obtained_day,
                company=customer.company if customer else current_shop(),
                today=_shop_today(customer),
            )
        )

    def validate(self, customer, form_data: Mapping[str, str]) -> list[str]:
        current = bool(customer and consent.has_consent(customer.id))
        if PREFIX not in form_data or current:
            return []
        errors = []
        if not form_data.get("mobile_phone", "").strip():
            errors.append(_("Add the customer's mobile phone to record SMS consent."))
        if form_data.get(f"{PREFIX}_method") not in {m.value for m in ConsentMethod}:
            errors.append(
                _("Say how the SMS consent was obtained: signed paper, electronic or oral.")
            )
        obtained = _parse_date(form_data.get(f"{PREFIX}_date", ""))
        if obtained is None:
            errors.append(_("Give the date the SMS consent was obtained."))
        elif obtained > date.fromisoformat(_shop_today(customer)):
            errors.append(_("The SMS consent date cannot be in the future."))
        reference = form_data.get(f"{PREFIX}_reference", "").strip()
        if not reference:
            errors.append(_("Give a reference for the SMS consent (document, invoice or form)."))
        elif len(reference) > 200:
            errors.append(_("The SMS consent reference is 200 characters at most."))
        return errors

    def apply(self, customer, form_data: Mapping[str, str], user) -> None:
        current = consent.has_consent(customer.id)
        ticked = PREFIX in form_data
        if ticked and not current:
            obtained = _parse_date(form_data[f"{PREFIX}_date"])
            consent.give_consent(
                customer,
                ConsentMethod(form_data[f"{PREFIX}_method"]),
                datetime.combine(obtained, time(12, 0), tzinfo=UTC),
                form_data.get(f"{PREFIX}_reference", "").strip(),
                user.id if user else None,
            )
        elif current and not ticked:
            consent.withdraw_consent(customer, user.id if user else None)


def _shop_today(customer) -> str:
    """Return today's date in the shop's time zone (ISO, for the date input's value and
    maximum): late in the evening a UTC date would already be tomorrow."""
    company = customer.company if customer else current_shop()
    return datetime.now(shop_zone(company)).date().isoformat()


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None
