"""The host's own pages, menu, commands and reports, registered as a plugin."""

from flask_babel import lazy_gettext as _l

from host import cli as host_cli
from host import event_log
from host.extension_points import MenuLink, PeriodicTask
from host.hookspecs import hookimpl
from host.legacy_sms import sent_sms_log_report
from host.views import appointments, auth, companies, customers, home, invoices, users


@hookimpl
def register_blueprints():
    return [
        home.bp,
        auth.bp,
        companies.bp,
        customers.bp,
        appointments.bp,
        invoices.bp,
        users.bp,
    ]


@hookimpl
def register_commands(cli):
    for command in host_cli.COMMANDS:
        cli.add_command(command)


@hookimpl
def menu_links(user):
    links = [
        MenuLink(_l("Customers"), "customers.index", 10),
        MenuLink(_l("Appointments"), "appointments.index", 20),
        MenuLink(_l("Invoices"), "invoices.index", 30),
    ]
    if user.is_operator or user.role == "admin":
        links += [
            MenuLink(_l("Company management"), "companies.mine", 80),
            MenuLink(_l("Users"), "users.index", 90),
        ]
    return links


@hookimpl
def register_periodic_tasks():
    # The event log's old rows (host/event_log.py), checked hourly.
    return [PeriodicTask("host-event-prune", 3600, event_log.prune)]


@hookimpl
def register_reports():
    return [sent_sms_log_report()]
