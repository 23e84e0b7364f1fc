"""Small test plugins: ones that clash with another plugin or misspell a hook (the start-up
checks stop them), ones that ask to be called first or last, and one that fails on events.

Plugins are class instances named through ``__name__`` (the name pluggy gives them and
start-up errors quote), the way Datasette's tests write theirs.
"""

from __future__ import annotations

from flask import Blueprint

from host.api import Report, ShopOption, hookimpl

# -- plugins that break the start-up checks --------------------------------------------


class OptionClaimA:
    __name__ = "option-claim-a"

    @hookimpl
    def shop_options(self):
        return [ShopOption(990, "Claimed by A")]


class OptionClaimB:
    __name__ = "option-claim-b"

    @hookimpl
    def shop_options(self):
        return [ShopOption(990, "Claimed by B")]


class BlueprintClaim:
    """Claim the reports plugin's blueprint name."""

    __name__ = "blueprint-claim"

    @hookimpl
    def register_blueprints(self):
        return [Blueprint("reports", __name__)]


class ReportClaim:
    """Claim the host's "Sent SMS log" report name."""

    __name__ = "report-claim"

    @hookimpl
    def register_reports(self):
        return [Report("legacy_sent_sms_log", "Clash", ("a",), lambda company, filters: [])]


class MisspelledHook:
    """Implement a hook that no spec declares."""

    __name__ = "misspelled"

    @hookimpl
    def menu_link(self, user):
        return []


# -- plugins that ask to be called first or last ---------------------------------------


class QueuesLast:
    __name__ = "queues-last"

    @hookimpl(trylast=True)
    def register_queues(self):
        return ["last"]


class QueuesFirst:
    __name__ = "queues-first"

    @hookimpl(tryfirst=True)
    def register_queues(self):
        return ["first"]


class FailingOnEvents:
    """Raise on every event, like a plugin with a bug."""

    __name__ = "failing-on-events"

    @hookimpl
    def appointment_changed(self, appointment):
        raise RuntimeError(f"plugin bug on appointment {appointment.id}")
