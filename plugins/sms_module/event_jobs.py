"""Where host-event jobs queued by an earlier layout find their functions (see ``jobs``)."""

from plugins.sms_module.jobs import appointment_changed, customer_saved, invoice_printed

__all__ = ["appointment_changed", "customer_saved", "invoice_printed"]
