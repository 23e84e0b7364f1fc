"""Where reply-forward jobs queued by an earlier layout find their function (see ``jobs``)."""

from plugins.sms_module.jobs import forward_reply as forward

__all__ = ["forward"]
