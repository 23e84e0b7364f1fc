"""The SMS module's hook implementations: thin, the logic lives in services."""

from __future__ import annotations

import os
from decimal import Decimal

from flask import url_for
from flask_babel import lazy_gettext as _l

from host import hookimpl
from host.extension_points import CustomerTab, MenuLink, PeriodicTask, ShopOption
from host.models import option_enabled, utcnow
from plugins.sms_module import models  # noqa: F401  (tables for Alembic and create_all)
from plugins.sms_module.services import OPTION_NUMBER


@hookimpl
def startup(app):
    """Default the SMS_ settings from the environment of PRODUCT.md §12."""
    env = os.environ.get
    app.config.setdefault("SMS_PROVIDER", env("SMS_PROVIDER", "simulator"))
    app.config.setdefault(
        "SMS_PUBLIC_BASE_URL", env("SMS_PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    )
    app.config.setdefault("TWILIO_ACCOUNT_SID", env("TWILIO_ACCOUNT_SID"))
    app.config.setdefault("TWILIO_AUTH_TOKEN", env("TWILIO_AUTH_TOKEN"))
    app.config.setdefault("TWILIO_API_BASE_URL", env("TWILIO_API_BASE_URL"))
    app.config.setdefault("SMS_PRICE_PER_SEGMENT", Decimal(env("SMS_PRICE_PER_SEGMENT", "0.0100")))
    app.config.setdefault("SMS_CURRENCY", env("SMS_CURRENCY", "CAD"))
    app.config.setdefault("SMS_GSM_PER_SEGMENT", 153)
    app.config.setdefault("SMS_UNICODE_PER_SEGMENT", 67)
    app.config.setdefault("SMS_MAX_CHARACTERS", 1600)
    # Sending pipeline: see pipeline.py and jobs.py for what each one bounds.
    app.config.setdefault("SMS_JOB_TIMEOUT", 45)
    app.config.setdefault("SMS_SEND_LEASE_SECONDS", 60)
    app.config.setdefault("SMS_SWEEP_GRACE_SECONDS", 5)
    app.config.setdefault("SMS_RATE_MARGIN_SECONDS", 0.03)
    app.config.setdefault("SMS_RATE_MAX_WAIT", 0.5)
    app.config.setdefault("SMS_BATCH_SECONDS", 5.0)
    app.config.setdefault("SMS_MAX_ATTEMPTS", 4)
    app.config.setdefault("SMS_RETRY_BASE_SECONDS", 2)
    app.config.setdefault("SMS_SIMULATOR_CALLBACK_DELAY", 1.0)
    # Appointment reminders: how long before the start, and the night they avoid (shop time).
    app.config.setdefault("SMS_REMINDER_HOURS_BEFORE", 24)
    app.config.setdefault("SMS_QUIET_START_HOUR", 21)
    app.config.setdefault("SMS_QUIET_END_HOUR", 8)
    app.config.setdefault("SMS_SIMULATOR_AUTH_TOKEN", env("SMS_SIMULATOR_AUTH_TOKEN", "simulator"))
    app.config.setdefault("SMS_METRICS_TOKEN", env("SMS_METRICS_TOKEN"))  # see views/operations.py
    # Where replies no shop's conversation answers are e-mailed (PRODUCT.md §9).
    app.config.setdefault(
        "SMS_OPERATOR_EMAILS",
        [a.strip() for a in env("SMS_OPERATOR_EMAILS", "").split(",") if a.strip()],
    )
    from plugins.sms_module.pipeline import Pipeline

    Pipeline(app)


@hookimpl
def register_blueprints():
    from plugins.sms_module.views import (
        api,
        campaigns,
        customer_sms,
        numbers,
        operations,
        replies,
        settings,
        webhooks,
    )
    from plugins.sms_module.views import templates as message_templates

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
    ]


@hookimpl
def register_commands(cli):
    from plugins.sms_module.cli import sms

    cli.add_command(sms)


@hookimpl
def register_queues():
    return ["transactional", "promotional"]


@hookimpl
def register_periodic_tasks():
    from plugins.sms_module.jobs import sweep

    return [PeriodicTask("sms-sweeper", 1, sweep)]


@hookimpl
def seed_demo():
    from plugins.sms_module.demo_data import seed_demo as seed

    seed()


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
def shop_options():
    return [
        ShopOption(
            OPTION_NUMBER,
            _l("Use the new SMS module"),
            _l("Needs the V2V organization number in Company management."),
        )
    ]


@hookimpl
def veto_option_change(company, number, enabled):
    if number == OPTION_NUMBER and enabled and not (company.v2v_number or "").strip():
        return _l(
            "Option 124 cannot be switched on: fill the V2V organization number in "
            "Company management first, then save."
        )
    return None


@hookimpl
def customer_fields(customer):
    from plugins.sms_module.consent_field import ConsentField

    return [ConsentField()]


@hookimpl
def customer_tabs(customer):
    return [CustomerTab(_l("SMS"), url_for("sms_customer.show", customer_id=customer.id))]


def _module_on(company_id: int) -> bool:
    # Checked at the event: a shop's events while the module is off are ignored for good.
    return option_enabled(company_id, OPTION_NUMBER)


@hookimpl
def appointment_changed(appointment, changes, created):
    from plugins.sms_module import event_jobs

    if _module_on(appointment.company_id):
        event_jobs.enqueue("appointment_changed", appointment.id, sorted(changes), created)


@hookimpl
def invoice_printed(invoice):
    from plugins.sms_module import event_jobs

    if _module_on(invoice.company_id):
        event_jobs.enqueue("invoice_printed", invoice.id)


@hookimpl
def customer_saved(customer, changes, created):
    from plugins.sms_module import event_jobs

    # Withdrawn consent and a changed phone matter even while the module is off.
    saved_at = utcnow().isoformat()
    event_jobs.enqueue("customer_saved", customer.id, sorted(changes), created, saved_at)


@hookimpl
def register_reports():
    from plugins.sms_module.reports import all_reports

    return all_reports()
