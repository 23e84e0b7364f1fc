"""The words people read for the codes the pages show: a queue ("Transactional",
"Transactionnelle"), a sender number's state ("Enabled", "Activé"), the consent ledger's
events and methods, the opt-out list's actions and who made a step; one label per code for
every page, flash and report (issue 12, points 1 and 2: no raw code shown to people).

The labels are lazy strings: read in the language of the page that shows them. Capitalised
as a table's cell; a sentence names the queue by its label as a name ("the pool of the
Transactional queue", "le bassin de la file Transactionnelle").
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from plugins.sms_module.models import (
    ConsentKind,
    ConsentMethod,
    OptOutAction,
    Queue,
    Source,
)

QUEUE_LABELS = {
    Queue.TRANSACTIONAL: _l("Transactional"),
    Queue.PROMOTIONAL: _l("Promotional"),
}

# A sender number's state (``SenderNumber.enabled``).
STATE_LABELS = {
    True: lazy_pgettext("sender number state", "Enabled"),
    False: lazy_pgettext("sender number state", "Disabled"),
}


def queue_label(queue: Queue | str) -> str:
    """Return the label of ``queue`` (a ``Queue`` or its code, "transactional") in the
    reader's language: "Transactional" / "Transactionnelle"; an unknown code as it is."""
    try:
        return str(QUEUE_LABELS[Queue(str(queue))])
    except ValueError:
        return str(queue)


def state_label(enabled: bool) -> str:
    """Return the label of a sender number's state: "Enabled" / "Activé", "Disabled" /
    "Désactivé"."""
    return str(STATE_LABELS[bool(enabled)])


# The consent ledger's and the opt-out list's words (PRODUCT.md §4, §5), for people.
CONSENT_KINDS = {
    ConsentKind.GIVEN: _l("Consent given"),
    ConsentKind.WITHDRAWN: _l("Consent withdrawn"),
    ConsentKind.DISCLAIMER_SENT: _l("Disclaimer sent"),
}
CONSENT_METHODS = {
    ConsentMethod.PAPER: _l("Signed paper document"),
    ConsentMethod.ELECTRONIC: _l("Electronic (signed invoice mention, web form)"),
    ConsentMethod.ORAL: _l("Oral (discouraged)"),
}
OPT_OUT_ACTIONS = {
    OptOutAction.OPT_OUT: _l("Opt-out"),
    OptOutAction.OPT_IN: _l("Opt-in"),
}
SOURCES = {
    Source.MODULE: _l("SMS module"),
    Source.PROVIDER_CALLBACK: _l("Carrier's report"),
    Source.RECONCILIATION: _l("Check with the carrier"),
    Source.STAFF: _l("Staff"),
    Source.API: _l("API"),
    Source.CAMPAIGN: _l("Campaign"),
    Source.EVENT: _l("Shop event"),
    Source.SMS_KEYWORD: _l("Keyword texted by the customer"),
    Source.PROVIDER_ERROR: _l("Carrier's error"),
}


def _label(table: dict, value) -> str:
    """Return ``value``'s label from ``table``; an unknown value as it is, "" for none."""
    if value is None or value == "":
        return ""
    return str(table.get(value, value))


def consent_kind_label(kind: str | None) -> str:
    """Return a consent ledger line's event ("given", "withdrawn"…) as people read it."""
    return _label(CONSENT_KINDS, kind)


def consent_method_label(method: str | None) -> str:
    """Return how consent was obtained ("paper", "electronic", "oral") as people read it."""
    return _label(CONSENT_METHODS, method)


def opt_out_action_label(action: str | None) -> str:
    """Return an opt-out list event's action ("opt_out", "opt_in") as people read it."""
    return _label(OPT_OUT_ACTIONS, action)


def source_label(source: str | None) -> str:
    """Return who made a history step or an opt-out ("staff", "sms_keyword"…) as people
    read it."""
    return _label(SOURCES, source)


# Why a reply's forward by e-mail was given up on (``SmsMessage.forward_error``, codes of
# ``conversations.mail_jobs``), on the reply page (issue 15, point 5).
FORWARD_FAILURES = {
    "smtp_timeout": _l("E-mail forward failed: the mail server did not answer"),
    "smtp_unreachable": _l("E-mail forward failed: the mail server could not be reached"),
    "smtp_refused": _l("E-mail forward failed: the mail server refused the e-mail"),
    "mail_not_configured": _l("E-mail forward failed: no mail server is set for the platform"),
}


def forward_failure_text(code: str | None) -> str:
    """Return why a reply's forward by e-mail failed, as people read it ("E-mail forward
    failed: the mail server did not answer"); an unknown code says only that it failed."""
    if code in FORWARD_FAILURES:
        return str(FORWARD_FAILURES[code])
    return str(_l("E-mail forward failed"))
