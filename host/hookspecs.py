"""The hooks a plugin may implement.

Every hook is called with keyword arguments; an implementation takes only the
arguments it needs (pluggy passes an implementation only the arguments it names, so one
written before ``event_id`` existed keeps working). Signatures and meanings are documented in
``docs/plugin_hooks.md`` and kept in step by ``tests/test_docs.py``.
"""

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("crmhost")
hookimpl = HookimplMarker("crmhost")


# -- start-up and extension points -------------------------------------------------


@hookspec
def startup(app):
    """Initialise the plugin for ``app``: set config defaults, create extensions.

    Called once per application, after the host's extensions exist and before
    blueprints are registered. Returns nothing.
    """


@hookspec
def register_blueprints():
    """Return an iterable of ``flask.Blueprint`` objects to register.

    Two blueprints with one name stop the start-up with a message naming both plugins.
    """


@hookspec
def register_commands(cli):
    """Add ``click`` commands or groups to the ``crmhost`` command group ``cli``."""


@hookspec
def register_queues():
    """Return an iterable of RQ queue names the plugin enqueues jobs on.

    ``crmhost worker`` listens on every declared queue, in the order declared.
    """


@hookspec
def register_periodic_tasks():
    """Return an iterable of ``host.api.PeriodicTask`` run by ``crmhost worker``.

    Each task runs in an app context about every ``every_seconds``, by one worker of
    the whole cluster at a time (a Redis lock), so a task may assume it runs alone.
    """


@hookspec
def seed_demo():
    """Add the plugin's demo data; ``crmhost demo`` calls it in an app context after the
    host's demo shops, users and customers exist. Must be idempotent: the demo seeds on
    every start. Returns nothing; the host commits."""


@hookspec
def demo_notes():
    """Return an iterable of lines (strings) ``crmhost demo`` prints under the logins.

    Called in an app context once the demo data is seeded; say what the plugin's demo does
    by itself that the person trying it should know.
    """


@hookspec
def menu_links(user):
    """Return an iterable of ``host.api.MenuLink`` shown to ``user``."""


@hookspec
def shop_options():
    """Return an iterable of ``host.api.ShopOption`` (numbered options).

    Two plugins declaring one option number stop the start-up with a clear message.
    """


@hookspec
def veto_option_change(company, number, enabled):
    """Return a message refusing to set option ``number`` of ``company`` to ``enabled``.

    Return ``None`` to allow the change. Any message refuses it, and the
    Options tab shows the message to the user.
    """


@hookspec
def veto_company_change(company, changes):
    """Return a mapping of field name to message refusing a save of Company management.

    ``company`` still holds the saved values; ``changes`` maps each changed column
    (``name``, ``v2v_number``, ``country``, ``province``, ``language``) to ``(old, new)``.
    Return ``None`` (or an empty mapping) to allow the change. Any message refuses it:
    nothing is saved, the page answers 422 and shows each message beside its field.
    """


@hookspec
def customer_fields(customer):
    """Return an iterable of ``host.api.CustomerField`` for the Customer
    Information tab of ``customer`` (``None`` for a new customer)."""


@hookspec
def customer_tabs(customer):
    """Return an iterable of ``host.api.CustomerTab`` for ``customer``'s page."""


@hookspec
def appointment_panels(appointment):
    """Return an iterable of ``markupsafe.Markup`` shown below ``appointment``'s form (an
    existing appointment only), e.g. the texts it will send and when."""


@hookspec
def home_panels(user, shop):
    """Return an iterable of ``markupsafe.Markup`` shown on the start page (``/``) of
    ``user``: what needs doing (issue 12, point 7).

    ``shop`` is the shop being worked on: the user's own, the one the operator picked, or
    ``None`` for the operator who picked none (platform-wide panels only). Panels are shown
    in plugin order, below the host's own part of the page.
    """


@hookspec
def register_reports():
    """Return an iterable of ``host.api.Report`` definitions.

    Report names are unique across plugins; the reports plugin lists and runs them.
    """


# -- events, fired after the database commit ---------------------------------------


@hookspec
def customer_saved(customer, changes, created, event_id):
    """React to a committed customer.

    ``changes`` maps each changed column to ``(old, new)``; ``created`` is true
    for a new customer. Never called for a rolled-back transaction. ``event_id`` is the id
    of the host_event row (``host.api.HostEvent``), committed with the save; the same event
    may be delivered again by a plugin's own sweeper.
    """


@hookspec
def appointment_changed(appointment, changes, created, event_id):
    """React to a committed appointment (booked, moved, status changed, cancelled).

    ``changes`` maps each changed column to ``(old, new)``; ``created`` is true
    for a new booking. Never called for a rolled-back transaction. ``event_id`` is the id
    of the host_event row (``host.api.HostEvent``), committed with the save; the same event
    may be delivered again by a plugin's own sweeper.
    """


@hookspec
def invoice_printed(invoice, event_id):
    """React to a committed print of ``invoice`` (each print fires once).

    ``event_id`` is the id of the host_event row (``host.api.HostEvent``), committed with
    the print; the same event may be delivered again by a plugin's own sweeper.
    """
