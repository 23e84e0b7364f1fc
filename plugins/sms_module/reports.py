"""The SMS module's report definitions, collected by the reports plugin (§11)."""

from __future__ import annotations

from host.extension_points import Report
from plugins.sms_module.consent import LEDGER_COLUMNS, ledger_rows


def consent_register() -> Report:
    """Describe the consent ledger report."""
    return Report(
        name="sms_consent_register",
        title="SMS consent register",
        columns=LEDGER_COLUMNS,
        rows=lambda company, filters: ledger_rows(company.id if company else None),
        description="Every consent given or withdrawn, and every disclaimer sent.",
    )


def all_reports() -> list[Report]:
    """Return every report of the SMS module."""
    return [consent_register()]
