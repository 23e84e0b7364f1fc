"""The shop's marketing campaigns (PRODUCT.md §7, §10; issue 11): the list with each
campaign's counts, the form of a new one with its live estimate, and each campaign's page:
its review (audience, text per language, cost with the disclaimers) to confirm, its edit,
cancel and test send, and afterwards its outcome counts and actual cost. For the shop's
administrators; what each action may do is ``campaigns.control``'s rule."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps

from flask import Blueprint, abort, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from host.api import (
    Role,
    db,
    get_in_shop_or_404,
    localtime,
    roles_required,
    shop_required,
)
from plugins.sms_module import campaigns
from plugins.sms_module.campaigns.review import languages_of
from plugins.sms_module.campaigns.trial import fresh_key
from plugins.sms_module.compliance import rules
from plugins.sms_module.models import SmsCampaign
from plugins.sms_module.models.campaigns import CampaignStatus
from plugins.sms_module.sending.service import SendRefused
from plugins.sms_module.views import campaign_form as forms
from plugins.sms_module.views import campaign_pages as pages
from plugins.sms_module.views.campaign_outcome import canceled_notice

bp = Blueprint(
    "sms_campaigns", __name__, url_prefix="/sms/campaigns", template_folder="../templates"
)


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
    return pages.render_index(shop_required(), forms.blank())


@bp.post("/")
@shop_admins_only
def create():
    """Save a draft campaign and show it for review; nothing goes before its confirmation."""
    shop = shop_required()
    form = forms.read(request.form)
    if rules.shop_refusal(shop) is not None:
        # The page says what to switch on or fill in, instead of the form.
        return pages.render_index(shop, form), 422
    errors, send_at = forms.validate(shop, form)
    if errors:
        return pages.render_index(shop, form, errors), 422
    campaign = SmsCampaign(
        company_id=shop.id,
        status=CampaignStatus.DRAFT,
        created_by_id=current_user.id,
        **forms.values(shop, form, send_at),
    )
    db.session.add(campaign)
    db.session.commit()
    flash(
        _('Campaign "%(name)s" saved as a draft: review it, then confirm it.', name=campaign.name)
    )
    return redirect(url_for("sms_campaigns.show", campaign_id=campaign.id), code=303)


@bp.post("/estimate")
@shop_admins_only
def estimate():
    """Return the audience and cost of the campaign being written (the form's live count)."""
    shop = shop_required()
    payload = request.get_json(silent=True)
    payload = payload if isinstance(payload, dict) else request.form
    texts = [payload.get(key, "") for key in ("body", "body_fr", "language")]
    if not all(isinstance(text, str) for text in texts):
        return jsonify(error={"code": "invalid", "message": _("Send the texts as strings.")}), 400
    body, body_fr, language = texts
    language = language if language in ("en", "fr") else None
    return jsonify(campaigns.estimate(shop, body, body_fr, language).as_json())


@bp.get("/<int:campaign_id>")
@shop_admins_only
def show(campaign_id: int):
    """Show a campaign: its review before it goes, then how far its messages got."""
    return pages.render_show(get_in_shop_or_404(SmsCampaign, campaign_id))


@bp.post("/<int:campaign_id>/confirm")
@shop_admins_only
def confirm(campaign_id: int):
    """Confirm the reviewed draft: its fan-out waits for the send time."""
    campaign = get_in_shop_or_404(SmsCampaign, campaign_id)
    try:
        campaigns.confirm(campaign, current_user.id, request.form.get("reviewed", ""))
    except campaigns.NotAllowed as refused:
        return pages.render_show(campaign, {"confirm": refused.message}), 409
    flash(
        _(
            'Campaign "%(name)s" confirmed: its messages leave at %(when)s (shop time).',
            name=campaign.name,
            when=localtime(campaign.send_at, campaign.company),
        )
    )
    return redirect(url_for("sms_campaigns.show", campaign_id=campaign.id), code=303)


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@shop_admins_only
def edit(campaign_id: int):
    """Change a campaign: everything until it sends (it becomes a draft again), then its
    name and text until its last message has left."""
    campaign = get_in_shop_or_404(SmsCampaign, campaign_id)
    shop = campaign.company
    outcome = campaigns.outcomes([campaign.id])[campaign.id]
    stage = campaigns.stage(campaign, outcome)
    if stage in ("done", CampaignStatus.CANCELED):
        return pages.render_show(campaign, {"edit": _("This campaign can no longer change.")}), 409
    texts_only = stage == CampaignStatus.SENDING
    if request.method == "GET":
        return pages.render_edit(campaign, forms.of_campaign(campaign, shop), {}, texts_only)
    typed = forms.read(request.form)
    changing = forms.TEXT_FIELDS if texts_only else forms.FIELDS
    form = {**forms.of_campaign(campaign, shop), **{key: typed[key] for key in changing}}
    errors, send_at = forms.validate(shop, form, texts_only, campaign.language)
    if errors:
        return pages.render_edit(campaign, form, errors, texts_only), 422
    try:
        if texts_only:
            body_fr = form["body_fr"] if form["body_fr"].strip() else None
            count = campaigns.edit_text(
                campaign, outcome, form["name"].strip(), form["body"], body_fr
            )
            flash(
                _(
                    "Campaign saved: %(count)s message(s) not sent yet got the new text.",
                    count=count,
                )
            )
        else:
            was = campaign.status
            campaigns.redraft(campaign, forms.values(shop, form, send_at))
            if was == CampaignStatus.CONFIRMED:
                flash(_("Campaign saved as a draft: review it and confirm it again."))
            else:
                flash(_("Campaign saved: review it, then confirm it."))
    except campaigns.NotAllowed as refused:
        return pages.render_edit(campaign, form, {"form": refused.message}, texts_only), 409
    return redirect(url_for("sms_campaigns.show", campaign_id=campaign.id), code=303)


@bp.post("/<int:campaign_id>/cancel")
@shop_admins_only
def cancel(campaign_id: int):
    """Stop the campaign: what has not left becomes Canceled; the notice counts its
    messages apart from the first-SMS disclaimers canceled with them."""
    campaign = get_in_shop_or_404(SmsCampaign, campaign_id)
    outcome = campaigns.outcomes([campaign.id])[campaign.id]
    try:
        canceled = campaigns.cancel(campaign, outcome, current_user.id)
    except campaigns.NotAllowed as refused:
        return pages.render_show(campaign, {"cancel": refused.message}), 409
    flash(canceled_notice(campaign.name, canceled, outcome))
    return redirect(url_for("sms_campaigns.show", campaign_id=campaign.id), code=303)


@bp.post("/<int:campaign_id>/test")
@shop_admins_only
def test(campaign_id: int):
    """Send the campaign's message to a phone of the shop's own: ``test_phone`` must be one
    the shop saved in its SMS settings (422 otherwise), at most ``TESTS_PER_HOUR`` an hour
    (429); nothing is stored or sent when refused."""
    campaign = get_in_shop_or_404(SmsCampaign, campaign_id)
    phone = request.form.get("test_phone", "").strip()
    language = request.form.get("test_language", "")
    key = request.form.get("test_key", "")
    test_form = {"test_phone": phone, "test_language": language}
    if language not in languages_of(campaign.language):
        return pages.render_show(
            campaign, {"test": _("Choose the language of the test.")}, test_form
        ), 422
    if not fresh_key(key):
        key = uuid.uuid4().hex
    try:
        sent = campaigns.send_test(campaign, phone, language, key, current_user.id)
    except campaigns.TooManyTests as refused:
        return pages.render_show(campaign, {"test": refused.message}, test_form), 429
    except (campaigns.NotAllowed, SendRefused) as refused:
        return pages.render_show(campaign, {"test": refused.message}, test_form), 422
    flash(
        _(
            "Test sent to %(phone)s: it leaves at %(when)s (shop time).",
            phone=sent.phone,
            when=localtime(sent.send_at, campaign.company),
        )
    )
    return redirect(url_for("sms_campaigns.show", campaign_id=campaign.id), code=303)
