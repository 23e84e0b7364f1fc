"""Where simulator report jobs queued by an earlier layout find their function (see ``jobs``)."""

from plugins.sms_module.jobs import simulator_report as report

__all__ = ["report"]
