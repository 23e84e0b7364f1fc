"""The SMS module's part of the start page (``home_panels``; issue 12, point 7): what needs
doing, each list read from the database as it is now.

For a shop (its users, or the operator who picked it):

- today's and tomorrow's appointments (shop time; not cancelled), each with the state of its
  confirmation (booked or moved text) and of its reminder for its current start time:
  scheduled, sent, delivered, failed, refused, canceled, or none;
- the conversations with unread replies, each linking to its conversation;
- the messages that failed or were refused in the last ``PROBLEM_DAYS`` days (by their last
  change), with why (``texts.reasons.failure_text``), where to fix it, and a Resend button
  once it is fixed.

For the operator: each queue's backlog and when it drains (``sending.monitoring``, the
figures of the SMS queues page); the messages reconciliation could not tell apart from
another one (flagged after ``SMS_RECONCILE_MAX_WAIT_MINUTES``) and the latest daily check
with the carrier's list (``sending.carrier_audit``; issue 15).

Resend (``POST /sms/messages/<id>/resend``) is for a refused message only: a rule stopped
it before any carrier had it, so it never left. It asks the send service for a new message
with the same text, kind and queue (the refused one stays as its audit row), keyed
``resend:<id>`` so that a second click sends nothing more. A message that reached the
carrier (failed, undelivered) is never sent again from here.
"""

from __future__ import annotations

import math
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from host.api import Company, Role, get_in_shop_or_404, roles_required, utcnow
from plugins.sms_module.compliance import rules
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.notifications.resend import NotResendable
from plugins.sms_module.notifications.resend import resend as resend_message
from plugins.sms_module.sending import carrier_audit, monitoring, service
from plugins.sms_module.texts.labels import queue_label
from plugins.sms_module.views.home_lists import appointments_ahead, unread_replies
from plugins.sms_module.views.home_problems import (
    PROBLEM_DAYS,
    failed_or_refused,
    reconcile_flagged,
)

bp = Blueprint("sms_home", __name__, url_prefix="/sms", template_folder="../templates")


def home_panels(user, shop: Company | None) -> list[Markup]:
    """Return the start page's SMS panel for ``user`` working on ``shop`` (``None``: the
    operator who picked no shop): the shop's lists, and the queues for the operator."""
    now = utcnow()
    context: dict = {"shop": shop, "queues": None}
    if shop is not None:
        problems, problem_count = failed_or_refused(shop, now)
        context.update(
            appointments=appointments_ahead(shop, now),
            unread=unread_replies(shop),
            problems=problems,
            problem_count=problem_count,
            problem_days=PROBLEM_DAYS,
            can_resend=not user.is_operator,
            **rules.shop_state(shop).page_context(),
        )
    if user.is_operator:
        context["queues"] = monitoring.queue_figures(now, monitoring.sender_figures(now))
        context["drain_text"] = drain_text
        context["queue_label"] = queue_label
    panels = [Markup(render_template("sms_module/_home_panel.html", **context))]
    if user.is_operator:
        flagged, flagged_count = reconcile_flagged()
        panels.append(
            Markup(
                render_template(
                    "sms_module/_home_reconciliation.html",
                    flagged=flagged,
                    flagged_count=flagged_count,
                    audit=carrier_audit.latest(),
                )
            )
        )
    return panels


def drain_text(seconds: float) -> str:
    """Return how long a backlog takes to drain, for people ("never" without a number)."""
    if math.isinf(seconds):
        return _("never: no enabled number")
    if seconds <= 0:
        return _("nothing to send")
    return format_timedelta(timedelta(seconds=max(seconds, 1)), threshold=1.1)


@bp.post("/messages/<int:message_id>/resend")
@roles_required(Role.ADMIN, Role.STAFF)
def resend(message_id: int):
    """Send a refused message again, once its cause is fixed (``notifications.resend``)."""
    if current_user.is_operator:
        abort(403)  # only the shop writes to its customers
    message = get_in_shop_or_404(SmsMessage, message_id)
    try:
        resend_message(message, current_user.company, current_user.id)
    except NotResendable as refused:
        flash(refused.message, "error")
    except service.SendRefused as refused:
        flash(_("Not sent again: %(why)s", why=refused.message), "error")
    else:
        flash(_("The SMS is sent again: it leaves as soon as it can."))
    return redirect(url_for("home.index"))
