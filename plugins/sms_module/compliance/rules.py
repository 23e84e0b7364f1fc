"""May this message go now? The rules of PRODUCT.md §3, §4 and §5, each written once.

Every page, hook, job and API call asks these functions; none re-states a rule:

- the shop's module is on (option 124), with its V2V organization number, and its country
  and province are filled (§3): ``shop_refusal``, and ``shop_state`` for the pages that
  explain it; option 124 is switched on (``option_veto``) and stays on (``company_veto``)
  only with the V2V number;
- the recipient's express consent is on record (§4): ``consent_refusal``;
- the phone is not on the platform-wide opt-out list (§5): ``opt_out_refusal``;
- just before the carrier call, what may have changed since acceptance: ``may_go_now``.

The quiet hours (``quiet_hours``) and the disclaimer first (``disclaimer``) have their own
modules in this package.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, bindparam, select

from host.api import Company, db, option_enabled, option_enabled_sql
from plugins.sms_module.compliance import consent, opt_out
from plugins.sms_module.compliance.consent import has_consent
from plugins.sms_module.compliance.opt_out import is_opted_out
from plugins.sms_module.models import FailureCode, Kind, OptOut, SmsMessage
from plugins.sms_module.texts.reasons import BEFORE_SENDING

# "Use the new SMS module" on the shop's Options tab (PRODUCT.md §3).
OPTION_NUMBER = 124


@dataclass(frozen=True)
class Refusal:
    """A rule that refused a message: ``code`` for programs, ``message`` for people."""

    code: FailureCode
    message: str


@dataclass(frozen=True)
class ShopState:
    """What a page says about the shop's module: on or off, location filled or not."""

    module_on: bool
    location_ok: bool
    module_off_message: str
    location_message: str
    v2v_ok: bool = True
    v2v_message: str = ""

    def page_context(self) -> dict:
        """Return the template variables of the pages' module alerts."""
        return {
            "module_on": self.module_on,
            "module_off_message": self.module_off_message,
            "location_ok": self.location_ok,
            "location_message": self.location_message,
            "v2v_ok": self.v2v_ok,
            "v2v_message": self.v2v_message,
        }


def module_on(company_id: int) -> bool:
    """Tell whether option 124 "Use the new SMS module" is on for the shop (§3)."""
    return option_enabled(company_id, OPTION_NUMBER)


def location_filled(company: Company) -> bool:
    """Tell whether the shop's country and province are filled: sending needs them (§3)."""
    return bool(company.country and company.province)


def v2v_filled(company: Company) -> bool:
    """Tell whether the shop's V2V organization number is filled: option 124 needs it (§3)."""
    return _written(company.v2v_number)


def _written(v2v_number: str | None) -> bool:
    """Tell whether a V2V organization number is written (not empty, not blank)."""
    return bool((v2v_number or "").strip())


def v2v_message() -> str:
    """Say, for people, that the V2V organization number is missing and where to fill it."""
    return _(
        "Sending SMS needs the shop's V2V organization number while option 124 is on: fill it "
        "in Company management (V2V organization number field), then save."
    )


def module_off_message() -> str:
    """Say, for people, that the module is off and how an administrator switches it on."""
    return _(
        "The new SMS module is off for this shop: an administrator switches on option 124 "
        '"Use the new SMS module" in Configuration > General information > Options tab.'
    )


def location_message() -> str:
    """Say, for people, that the shop's location is missing and where to fill it in."""
    return _(
        "Sending SMS needs the shop's country and province: fill them in Company management "
        "(Country and Province drop-down menus), then save."
    )


def option_veto(company: Company, number: int, enabled: bool) -> str | None:
    """Refuse switching option 124 on while the shop's V2V organization number is empty
    (PRODUCT.md §3); ``None`` lets the change through."""
    if number == OPTION_NUMBER and enabled and not v2v_filled(company):
        return _l(
            "Option 124 cannot be switched on: fill the V2V organization number in "
            "Company management first, then save."
        )
    return None


def company_veto(company: Company, changes: dict) -> dict[str, str] | None:
    """Refuse emptying the shop's V2V organization number while option 124 is on (PRODUCT.md
    §3: the option needs it, so it holds as long as the option is on).

    ``changes`` maps each changed column of Company management to ``(old, new)``; returns
    ``{"v2v_number": message}`` to refuse, ``None`` to let the change through."""
    if "v2v_number" not in changes or not module_on(company.id):
        return None
    if (changes["v2v_number"][1] or "").strip():
        return None
    return {
        "v2v_number": _(
            'The V2V organization number cannot be emptied while option 124 "Use the new SMS '
            'module" is on: switch the option off on the Options tab first.'
        )
    }


def shop_refusal(company: Company) -> Refusal | None:
    """Refuse every SMS of a shop whose module is off, whose V2V organization number is
    empty (option 124 needs it) or whose location is empty (§3)."""
    if not module_on(company.id):
        return Refusal(FailureCode.MODULE_OFF, module_off_message())
    if not v2v_filled(company):
        return Refusal(FailureCode.V2V_MISSING, v2v_message())
    if not location_filled(company):
        return Refusal(FailureCode.LOCATION_MISSING, location_message())
    return None


def shop_state(company: Company | None) -> ShopState:
    """Return what the SMS pages show about the shop's module (``None``: the operator)."""
    return ShopState(
        module_on=bool(company is not None and module_on(company.id)),
        location_ok=bool(company is not None and location_filled(company)),
        module_off_message=module_off_message(),
        location_message=location_message(),
        v2v_ok=bool(company is not None and v2v_filled(company)),
        v2v_message=v2v_message(),
    )


def consent_refusal(customer_id: int | None) -> Refusal | None:
    """Refuse a recipient with no express consent on record: never assumed (§4)."""
    if customer_id is None or not has_consent(customer_id):
        return Refusal(
            FailureCode.NO_CONSENT,
            _(
                'No express consent is on record for this recipient: tick "Accepts communications '
                'by SMS" on the Customer Information tab, with the evidence, before sending.'
            ),
        )
    return None


def opt_out_refusal(phone: str) -> Refusal | None:
    """Refuse a phone that texted STOP: it gets nothing from any shop until START (§5)."""
    if is_opted_out(phone):
        return Refusal(
            FailureCode.OPTED_OUT,
            _("This phone replied STOP: it receives no SMS from any shop until it texts START."),
        )
    return None


def may_go_now(message: SmsMessage) -> Refusal | None:
    """Check again, just before the carrier call, what may have changed since acceptance:
    the module switched off or its V2V organization number emptied (§3), the phone opted
    out, consent withdrawn.

    The answer to STOP, START or HELP goes in any case: it is what the phone asked for.
    The message is stored by its code only (``codes.Reason.BEFORE_SENDING``), and read in
    the reader's language (``texts.reasons.BEFORE_SENDING``).

    Each is read afresh for every message (nothing is kept from one send to the next): the
    shop's option 124, its V2V number, the opt-out list and the consent in one statement,
    each by its rule's own SQL (issue 14, point 7)."""
    if message.kind == Kind.KEYWORD_ANSWER:
        return None
    code = None
    facts = _send_time_facts(message.company_id, message.phone, message.customer_id)
    module_is_on, v2v_number, opted_out, consented = facts
    if message.company_id is not None and not module_is_on:
        code = FailureCode.MODULE_OFF
    elif message.company_id is not None and not _written(v2v_number):
        code = FailureCode.V2V_MISSING
    elif opted_out:
        code = FailureCode.OPTED_OUT
    elif message.customer_id is not None and not consented:
        code = FailureCode.NO_CONSENT
    return Refusal(code, str(BEFORE_SENDING[code])) if code is not None else None


def _send_time_facts(
    company_id: int | None, phone: str, customer_id: int | None
) -> tuple[bool, str | None, bool, bool]:
    """Return, in one statement, whether the shop's option 124 is on (``module_on`` in
    SQL), its V2V organization number, whether ``phone`` is on the opt-out list
    (``opt_out.listed``: ``is_opted_out`` in SQL) and whether the customer's consent is on
    record (``consent.consents``: ``has_consent`` in SQL)."""
    params = {"company_id": company_id, "phone": phone, "customer_id": customer_id}
    row = db.session.execute(_send_time_statement(), params).one()
    return bool(row[0]), row[1], bool(row[2]), bool(row[3])


@functools.cache
def _send_time_statement():
    """``_send_time_facts``'s statement, built once with bound parameters (issue 14 point 7);
    a ``customer_id`` of None matches no consent event, as ``consents(None)`` did."""
    company_id = bindparam("company_id", type_=Integer)
    customer_id = bindparam("customer_id", type_=Integer)
    option = option_enabled_sql(company_id, OPTION_NUMBER)
    v2v_number = select(Company.v2v_number).where(Company.id == company_id).scalar_subquery()
    listed = select(OptOut.id).where(opt_out.listed(bindparam("phone", type_=String))).exists()
    return select(option, v2v_number, listed, consent.consents(customer_id))
