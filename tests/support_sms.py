"""Helpers for the SMS module's tests: switch the module on, record consent."""

from __future__ import annotations

from datetime import UTC, datetime

from host.extensions import db
from host.models import Company, CompanyOption, Customer
from plugins.sms_module.compliance import consent
from plugins.sms_module.jobs import EVENT_JOB_PATHS
from plugins.sms_module.models import ConsentMethod


def module_on(company_id: int, enabled: bool = True) -> None:
    """Set option 124 for the shop directly (the Options tab is tested on its own)."""
    row = db.session.get(CompanyOption, (company_id, 124)) or CompanyOption(
        company_id=company_id, number=124
    )
    row.enabled = enabled
    db.session.add(row)
    db.session.commit()


def give_consent(customer_id: int) -> None:
    """Record a signed-paper consent for the customer."""
    customer = db.session.get(Customer, customer_id)
    consent.give_consent(
        customer, ConsentMethod.PAPER, datetime(2026, 1, 5, tzinfo=UTC), "form 12", None
    )
    db.session.commit()


def ready_to_send(shops: dict, key: str = "a", disclaimed: bool = True):
    """Make shop ``key`` able to send to its customer; return both.

    ``disclaimed`` records the phone's first-SMS disclaimer as already sent, so tests of
    other rules see one message per request (the disclaimer has tests of its own).
    """
    module_on(shops[key]["shop"])
    give_consent(shops[key]["customer"])
    company = db.session.get(Company, shops[key]["shop"])
    customer = db.session.get(Customer, shops[key]["customer"])
    if disclaimed:
        mark_disclaimed(company, customer, customer.mobile_phone)
    return company, customer


def mark_disclaimed(company: Company, customer: Customer, phone: str) -> None:
    """Record that the shop's disclaimer already reached ``phone``."""
    from plugins.sms_module.compliance import disclaimer
    from plugins.sms_module.models import lifecycle
    from plugins.sms_module.models.statuses import Status

    if disclaimer.state(company.id, phone) == "sent":
        return
    message = disclaimer.message_for(company, customer, phone)
    lifecycle.start(message, Status.SENT, "module", "sent earlier")
    db.session.add(message)
    db.session.commit()


def login_en(client, email: str) -> None:
    """Log in and read the pages in English, whatever the shop's language."""
    from tests.conftest import login

    login(client, email)
    client.get("/language/en")


def run_event_jobs() -> int:
    """Run, in this app context, the event jobs the hooks queued (a worker's share of a
    save), leaving the send jobs they queue in turn; return how many ran."""
    from host.redis_connection import get_queue

    queue = get_queue("transactional")
    ran = 0
    for job in queue.get_jobs():
        if job.func_name in EVENT_JOB_PATHS:
            queue.remove(job)
            job.perform()
            ran += 1
    return ran
