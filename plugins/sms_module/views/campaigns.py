"""The shop's marketing campaigns (PRODUCT.md §7, §10): the list with each campaign's counts
by status, the form of a new one (with its audience and cost before sending), and each
campaign's page. For the shop's administrators; the fan-out itself is ``campaigns.fanout``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from host.api import (
    Company,
    Customer,
    Role,
    User,
    db,
    get_in_shop_or_404,
    localtime,
    roles_required,
    shop_required,
    utcnow,
)
from plugins.sms_module import campaigns
from plugins.sms_module.compliance import quiet_hours, rules
from plugins.sms_module.models import SmsCampaign, SmsMessage
from plugins.sms_module.texts.preview import preview, status_label
from plugins.sms_module.texts.pricing import pricing, segment_rule
from plugins.sms_module.texts.segments import MessageTooLong, count_segments

bp = Blueprint(
    "sms_campaigns", __name__, url_prefix="/sms/campaigns", template_folder="../templates"
)

PER_PAGE = 50  # campaigns per page of the list
MAX_PAGE = 10_000  # a page number past any real list: keeps the offset a sane integer
MESSAGES_SHOWN = 200  # the messages a campaign's page lists
MAX_NAME = 100
# A send time typed a little before the submit (the time it took) is "now".
PAST_TOLERANCE = timedelta(minutes=1)
MAX_AHEAD = timedelta(days=365)
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
LANGUAGE_CHOICES = (
    ("", _l("All customers")),
    ("en", _l("English-speaking customers")),
    ("fr", _l("French-speaking customers")),
)
BUCKET_LABELS = {
    "waiting": _l("Scheduled / queued"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "failed": _l("Undelivered / failed"),
    "refused": _l("Refused"),
    "canceled": _l("Canceled"),
}


def shop_admins_only(view: Callable) -> Callable:
    """Allow the view to the shop's administrators: not its staff, nor the platform operator
    (a campaign is the shop's own marketing, sent in its name)."""

    @roles_required(Role.ADMIN)
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.is_operator:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.get("/")
@shop_admins_only
def index():
    """List the shop's campaigns, newest first, with the form of a new one."""
    shop = shop_required()
    return _render_index(shop, _blank_form())


@bp.post("/")
@shop_admins_only
def create():
    """Save a campaign, then put its fan-out on the promotional queue."""
    shop = shop_required()
    form = {key: request.form.get(key, "") for key in _blank_form()}
    if rules.shop_refusal(shop) is not None:
        # The page says what to switch on or fill in, instead of the form.
        return _render_index(shop, form), 422
    errors, send_at = _validate(shop, form)
    if errors:
        return _render_index(shop, form, errors), 422
    due = quiet_hours.next_morning(send_at, shop)
    campaign = SmsCampaign(
        company_id=shop.id,
        name=form["name"].strip(),
        body=form["body"],
        send_at=due,
        requested_send_at=send_at if due != send_at else None,
        language=form["language"] or None,
        created_by_id=current_user.id,
    )
    db.session.add(campaign)
    db.session.commit()  # the campaign first: the sweeper enqueues it if this process dies
    campaigns.enqueue(campaign.id)
    flash(
        _(
            'Campaign "%(name)s" saved: its messages are being prepared; they leave at '
            "%(when)s (shop time).",
            name=campaign.name,
            when=localtime(campaign.send_at, shop),
        )
    )
    if campaign.requested_send_at is not None:
        flash(_moved_message(campaign, shop))
    return redirect(url_for("sms_campaigns.show", campaign_id=campaign.id), code=303)


@bp.get("/<int:campaign_id>")
@shop_admins_only
def show(campaign_id: int):
    """Show a campaign: what it sends, to whom, and how far its messages got."""
    campaign = get_in_shop_or_404(SmsCampaign, campaign_id)
    shop = campaign.company
    rows = db.session.execute(
        select(SmsMessage, Customer)
        .outerjoin(Customer, Customer.id == SmsMessage.customer_id)
        .where(SmsMessage.campaign_id == campaign.id)
        .order_by(SmsMessage.id)
        .limit(MESSAGES_SHOWN)
    ).all()
    return render_template(
        "sms_module/campaign.html",
        campaign=campaign,
        shop=shop,
        creator=db.session.get(User, campaign.created_by_id) if campaign.created_by_id else None,
        counts=campaigns.status_counts([campaign.id])[campaign.id],
        bucket_labels=BUCKET_LABELS,
        language_label=dict(LANGUAGE_CHOICES)[campaign.language or ""],
        moved=_moved_message(campaign, shop) if campaign.requested_send_at else None,
        stopped=campaigns.stopped_message(campaign.stopped_code),
        rows=rows,
        shown=MESSAGES_SHOWN,
        status_label=status_label,
        **_module_state(shop),
    )


def _blank_form() -> dict[str, str]:
    return {"name": "", "body": "", "send_at": "", "language": ""}


def _validate(shop: Company, form: dict[str, str]) -> tuple[dict[str, str], datetime]:
    """Check the typed campaign; return a message per field in error, and the send time."""
    errors: dict[str, str] = {}
    name = form["name"].strip()
    if not name:
        errors["name"] = _('Name the campaign, e.g. "Winter tires".')
    elif len(name) > MAX_NAME:
        errors["name"] = _(
            "The name has %(count)s characters; the limit is %(limit)s.",
            count=len(name),
            limit=MAX_NAME,
        )
    body = form["body"]
    if not body.strip():
        errors["body"] = _("The message is empty: write the text to send.")
    else:
        try:
            count_segments(body, **segment_rule())
        except MessageTooLong as exc:
            errors["body"] = _(
                "The message has %(count)s characters; the limit is %(limit)s.",
                count=exc.characters,
                limit=exc.limit,
            )
    now = utcnow()
    send_at = now
    text = form["send_at"].strip()
    if text:
        parsed = _parse_local(text, shop)
        if parsed is None:
            errors["send_at"] = _(
                "Enter the send time as a date and a time, e.g. 2026-12-01 10:00, "
                "or leave it empty to send now."
            )
        elif parsed < now - PAST_TOLERANCE:
            errors["send_at"] = _(
                "The send time has passed: choose a time to come, or leave it empty to send now."
            )
        elif parsed > now + MAX_AHEAD:
            errors["send_at"] = _("Choose a send time within a year.")
        else:
            send_at = max(parsed, now)
    if form["language"] not in dict(LANGUAGE_CHOICES):
        errors["language"] = _("Choose the audience: all customers, English or French speakers.")
    return errors, send_at


def _parse_local(text: str, shop: Company) -> datetime | None:
    """Read a shop-time ``datetime-local`` value as UTC; None if it is no such time."""
    zone = shop.zone
    for pattern in TIME_FORMATS:
        try:
            local = datetime.strptime(text, pattern)
        except ValueError:
            continue
        try:
            return local.replace(tzinfo=zone).astimezone(UTC)
        except OverflowError:  # the first or last day of year 1 or 9999 in another zone
            return None
    return None


def _moved_message(campaign: SmsCampaign, shop: Company) -> str:
    start, end = quiet_hours.quiet_hours()
    return _(
        "%(asked)s falls in the quiet hours (%(start)s to %(end)s, shop time): the campaign "
        "leaves at %(when)s instead.",
        asked=localtime(campaign.requested_send_at, shop),
        start=start.strftime("%H:%M"),
        end=end.strftime("%H:%M"),
        when=localtime(campaign.send_at, shop),
    )


def _module_state(shop: Company) -> dict:
    return rules.shop_state(shop).page_context()


def _render_index(shop: Company, form: dict[str, str], errors: dict[str, str] | None = None):
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    rows = db.session.scalars(
        select(SmsCampaign)
        .where(SmsCampaign.company_id == shop.id)
        .order_by(SmsCampaign.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
    ).all()
    more, rows = len(rows) > PER_PAGE, rows[:PER_PAGE]
    audience = campaigns.audience_counts(shop)
    chosen = audience[form["language"] if form["language"] in dict(LANGUAGE_CHOICES) else ""]
    shown = preview(form["body"])[0] if form["body"] else None
    segments = shown["segments"] if shown and "error" not in shown else 0
    cost, currency = campaigns.estimate(segments, chosen.reachable)
    start, end = quiet_hours.quiet_hours()
    return render_template(
        "sms_module/campaigns.html",
        shop=shop,
        form=form,
        errors=errors or {},
        campaigns=rows,
        counts=campaigns.status_counts([c.id for c in rows]),
        bucket_labels=BUCKET_LABELS,
        page=page,
        more=more,
        languages=LANGUAGE_CHOICES,
        audience=chosen,
        audience_json=json.dumps(
            {
                code: {"customers": a.customers, "reachable": a.reachable}
                for code, a in audience.by_language.items()
            }
        ),
        segments=segments,
        preview=shown,
        pricing=pricing(),
        cost=cost.quantize(Decimal("0.01")),
        currency=currency,
        zone=shop.zone.key,
        quiet_start=start.strftime("%H:%M"),
        quiet_end=end.strftime("%H:%M"),
        **_module_state(shop),
    )
