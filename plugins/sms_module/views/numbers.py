"""The operator's sender numbers page: the pools, their rates, adding and disabling numbers.

A number added must be able to send SMS to the shops' customers: the rule and its
sources are ``sending.pools.sender_number_problem``'s (issue 12, point 8).
"""

from __future__ import annotations

from babel.numbers import format_decimal
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from host.api import db, reader_locale, roles_required
from plugins.sms_module.models import Queue, SenderNumber
from plugins.sms_module.sending import pools
from plugins.sms_module.texts.labels import queue_label, state_label

bp = Blueprint("sms_numbers", __name__, url_prefix="/sms/numbers", template_folder="../templates")


@bp.get("/")
@roles_required()
def index():
    """List every sender number with its queue, rate, state and last send (operator only)."""
    return _render()


@bp.post("/")
@roles_required()
def add():
    """Add a number to a queue's pool."""
    form = request.form
    try:
        row = pools.add_number(
            form.get("number", ""), form.get("queue", ""), form.get("rate", "") or "1"
        )
    except pools.PoolError as exc:
        return _refuse(exc)
    flash(
        _(
            "%(number)s added to the pool of the %(queue)s queue.",
            number=row.number,
            queue=queue_label(row.queue),
        )
    )
    return redirect(url_for("sms_numbers.index"))


@bp.post("/<int:number_id>/rate")
@roles_required()
def rate(number_id: int):
    """Set a number's rate in segments per second."""
    row = _get_or_404(number_id)
    try:
        pools.set_rate(row.number, request.form.get("rate", ""))
    except pools.PoolError as exc:
        return _refuse(exc)
    flash(
        _("%(number)s now sends %(rate)s segment(s) per second.", number=row.number, rate=_fmt(row))
    )
    return redirect(url_for("sms_numbers.index"))


@bp.post("/<int:number_id>/disable")
@roles_required()
def disable(number_id: int):
    """Stop sending on a number."""
    row = pools.disable_number(_get_or_404(number_id).number)
    flash(_("%(number)s disabled.", number=row.number))
    if not pools.pool(row.queue):
        flash(
            _(
                "The pool of the %(queue)s queue has no enabled number left: it sends "
                "nothing until a number is enabled.",
                queue=queue_label(row.queue),
            ),
            "error",
        )
    return redirect(url_for("sms_numbers.index"))


@bp.post("/<int:number_id>/enable")
@roles_required()
def enable(number_id: int):
    """Send on a number again."""
    row = pools.enable_number(_get_or_404(number_id).number)
    flash(_("%(number)s enabled.", number=row.number))
    return redirect(url_for("sms_numbers.index"))


def _get_or_404(number_id: int) -> SenderNumber:
    row = db.session.get(SenderNumber, number_id)
    if row is None:
        abort(404)
    return row


def _fmt(row: SenderNumber) -> str:
    """The number's rate the reader's way, without grouping: "0,5" in French, "0.5" in
    English (``pools.parse_rate`` reads either back)."""
    return format_decimal(row.rate, "0.###", locale=reader_locale())


def _refuse(exc: pools.PoolError):
    db.session.rollback()
    flash(str(exc), "error")
    return _render(), 422


def _render():
    numbers = pools.all_numbers()
    enabled = [n for n in numbers if n.enabled]
    return render_template(
        "sms_module/numbers.html",
        numbers=numbers,
        # The numbers whose disabling stops their pool: each is its pool's last enabled one.
        last_enabled={n.id for n in enabled if sum(m.queue == n.queue for m in enabled) == 1},
        counts=pools.conversation_counts(),
        queues=list(Queue),
        rate_of=_fmt,
        queue_label=queue_label,
        state_label=state_label,
        form=request.form if request.method == "POST" else {},
    )
