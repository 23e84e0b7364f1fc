"""The SMS module's hook implementations: thin, each hands over to the package that owns
the work (see the package docstrings)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from host.api import CustomerTab, MenuLink, PeriodicTask, ShopOption, hookimpl, utcnow
from plugins.sms_module import demo, jobs, models  # noqa: F401  (models: tables for Alembic)
from plugins.sms_module.api import views as api
from plugins.sms_module.campaigns.queueing import QUEUE as FANOUT_QUEUE
from plugins.sms_module.cli import sms as sms_command
from plugins.sms_module.compliance import rules
from plugins.sms_module.conversations.mail_jobs import MAIL_QUEUE
from plugins.sms_module.extension import sms
from plugins.sms_module.models import Queue
from plugins.sms_module.notifications import event_jobs
from plugins.sms_module.reports import all_reports
from plugins.sms_module.reports.summary import compact_deltas
from plugins.sms_module.views import (
    campaigns,
    customer_sms,
    home_panel,
    numbers,
    operations,
    replies,
    scheduled,
    settings,
    webhooks,
)
from plugins.sms_module.views import templates as message_templates
from plugins.sms_module.views.consent_field import ConsentField


@hookimpl
def startup(app):
    """Default the SMS settings (``extension``)."""
    sms.init_app(app)


@hookimpl
def register_blueprints():
    return [
        customer_sms.bp,
        settings.bp,
        api.bp,
        numbers.bp,
        webhooks.bp,
        operations.bp,
        message_templates.bp,
        replies.bp,
        campaigns.bp,
        scheduled.bp,
        home_panel.bp,
    ]


@hookimpl
def register_commands(cli):
    cli.add_command(sms_command)


@hookimpl
def register_queues():
    # A worker serves them in this order: campaigns' fan-outs first, never behind a backlog
    # of sends (issue 14 point 4), then the SMS queues, then the mail (issue 15).
    return [FANOUT_QUEUE, *(queue.value for queue in Queue), MAIL_QUEUE]


@hookimpl
def register_periodic_tasks():
    return [
        PeriodicTask("sms-sweeper", 1, jobs.sweep),
        # Delivery reports that did not come, and the daily check with the carrier (issue 15).
        PeriodicTask("sms-status-fetch", 60, jobs.fetch_statuses),
        PeriodicTask("sms-carrier-audit", 600, jobs.audit_carrier),
        # The report summaries' deltas folded into their day rows (issue 14, point 2).
        PeriodicTask("sms-report-compact", 30, compact_deltas),
    ]


@hookimpl
def seed_demo():
    demo.seed_demo()


@hookimpl
def menu_links(user):
    # Every shop user answers replies; the operator reads the ones no shop's conversation took.
    links = [MenuLink(_l("SMS replies"), "sms_replies.index", 69)]
    if user.is_operator or user.role == "admin":
        links.append(MenuLink(_l("SMS settings"), "sms_settings.index", 70))
    if user.is_operator:
        links.append(MenuLink(_l("Sender numbers"), "sms_numbers.index", 71))
        links.append(MenuLink(_l("SMS queues"), "sms_operations.index", 72))
    if user.role == "admin":  # shop administrators only
        links.append(MenuLink(_l("SMS campaigns"), "sms_campaigns.index", 73))
    return links


@hookimpl
def home_panels(user, shop):
    return home_panel.home_panels(user, shop)


@hookimpl
def shop_options():
    return [
        ShopOption(
            rules.OPTION_NUMBER,
            _l("Use the new SMS module"),
            _l("Needs the V2V organization number in Company management."),
        )
    ]


@hookimpl
def veto_option_change(company, number, enabled):
    return rules.option_veto(company, number, enabled)


@hookimpl
def veto_company_change(company, changes):
    return rules.company_veto(company, changes)


@hookimpl
def customer_fields(customer):
    return [ConsentField()]


@hookimpl
def customer_tabs(customer):
    return [CustomerTab(_l("SMS"), url_for("sms_customer.show", customer_id=customer.id))]


@hookimpl
def appointment_panels(appointment):
    return scheduled.appointment_panels(appointment)


@hookimpl
def appointment_changed(appointment, changes, created, event_id):
    # Checked at the event: a shop's events while the module is off are ignored for good
    # (recorded handled). The event's id keys its texts, so a job run twice sends once, and
    # a time or a status the appointment comes back to is told again.
    if not rules.module_on(appointment.company_id):
        event_jobs.ignore(event_id)
        return
    key = str(event_id) if event_id is not None else None
    args = (appointment.id, sorted(changes), created, key)
    event_jobs.enqueue("appointment_changed", event_id, *args)


@hookimpl
def invoice_printed(invoice, event_id):
    if not rules.module_on(invoice.company_id):
        event_jobs.ignore(event_id)
        return
    event_jobs.enqueue("invoice_printed", event_id, invoice.id, event_id)


@hookimpl
def customer_saved(customer, changes, created, event_id):
    # Withdrawn consent and a changed phone matter even while the module is off.
    saved_at = utcnow().isoformat()
    event_jobs.enqueue(
        "customer_saved", event_id, customer.id, sorted(changes), created, saved_at, event_id
    )


@hookimpl
def register_reports():
    return all_reports()


@hookimpl
def demo_notes():
    return demo.notes()
