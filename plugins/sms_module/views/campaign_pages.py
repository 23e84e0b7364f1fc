"""How the campaign pages (``views.campaigns``) are drawn: the list with the new-campaign
form and its live estimate, a campaign's page (its review, its outcome, its test sends) and
its edit form."""

from __future__ import annotations

import uuid

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from host.api import Company, Customer, User, db, utcnow
from plugins.sms_module import campaigns
from plugins.sms_module.campaigns.review import campaign_text, languages_of
from plugins.sms_module.compliance import rules
from plugins.sms_module.models import Kind, SmsCampaign, SmsMessage
from plugins.sms_module.models.campaigns import CampaignStatus
from plugins.sms_module.sending import forecast
from plugins.sms_module.texts.preview import preview, status_label
from plugins.sms_module.texts.pricing import pricing
from plugins.sms_module.texts.templates import message_language
from plugins.sms_module.views import campaign_form as forms
from plugins.sms_module.views.campaign_outcome import recipients_text, why_texts

PER_PAGE = 50  # campaigns per page of the list
MAX_PAGE = 10_000  # a page number past any real list: keeps the offset a sane integer
MESSAGES_SHOWN = 200  # the messages a campaign's page lists
# What each of the shop's own phones (``campaigns.own_phones``) is, in the test's choice.
OWN_PHONE_LABELS = {
    "forward_phone": _l("the cell replies are forwarded to"),
    "contact_phone": _l("the contact number HELP gives"),
}


def render_show(campaign: SmsCampaign, errors: dict | None = None, test_form: dict | None = None):
    """Draw a campaign's page; ``errors`` by action (confirm, edit, cancel, test), and the
    test send's typed fields."""
    shop = campaign.company
    outcome = campaigns.outcomes([campaign.id])[campaign.id]
    stage = campaigns.stage(campaign, outcome)
    reviewing = campaign.status in (CampaignStatus.DRAFT, CampaignStatus.CONFIRMED)
    estimate = (
        campaigns.estimate(shop, campaign.body, campaign.body_fr, campaign.language)
        if reviewing
        else None
    )
    rows = db.session.execute(
        select(SmsMessage, Customer)
        .outerjoin(Customer, Customer.id == SmsMessage.customer_id)
        .where(SmsMessage.campaign_id == campaign.id, SmsMessage.kind == Kind.CAMPAIGN)
        .order_by(SmsMessage.id)
        .limit(MESSAGES_SHOWN)
    ).all()
    own_phones = campaigns.own_phones(shop.id)
    languages = languages_of(campaign.language)
    default_language = message_language(None, shop)
    return render_template(
        "sms_module/campaign.html",
        campaign=campaign,
        shop=shop,
        stage=stage,
        stage_label=forms.STAGE_LABELS[stage],
        creator=db.session.get(User, campaign.created_by_id) if campaign.created_by_id else None,
        outcome=outcome,
        counts=outcome.counts,
        bucket_labels=forms.BUCKET_LABELS,
        language_label=dict(forms.LANGUAGE_CHOICES)[campaign.language or ""],
        language_names=forms.language_names(),
        currency=pricing().currency,
        recipients=recipients_text(campaign, outcome),
        # Why each listed message failed, was refused or canceled, in the reader's words.
        why=why_texts(campaign, [message for message, _customer in rows]),
        estimate=estimate,
        last_leaves=forecast.last_message_leaves(
            shop, estimate.total_segments, campaign.send_at or utcnow(), utcnow()
        )
        if estimate
        else None,
        texts=[(code, campaign_text(campaign, code)) for code in languages],
        reviewed=campaigns.fingerprint(campaign),
        can_change=stage not in ("done", CampaignStatus.CANCELED),
        moved=forms.moved_message(campaign, shop) if campaign.requested_send_at else None,
        stopped=campaigns.stopped_message(campaign.stopped_code),
        errors=errors or {},
        tests=campaigns.tests_of(campaign),
        test_form=test_form
        or {
            "test_phone": own_phones[0][0] if own_phones else "",
            "test_language": default_language if default_language in languages else languages[0],
        },
        test_languages=languages,
        tests_per_hour=campaigns.TESTS_PER_HOUR,
        test_phones=[(phone, OWN_PHONE_LABELS[field]) for phone, field in own_phones],
        test_key=uuid.uuid4().hex,
        rows=rows,
        shown=MESSAGES_SHOWN,
        status_label=status_label,
        **module_state(shop),
    )


def render_edit(campaign: SmsCampaign, form: dict, errors: dict, texts_only: bool):
    """Draw a campaign's edit form; ``texts_only``: a sending campaign (name and texts)."""
    shop = campaign.company
    language = campaign.language if texts_only else (form["language"] or None)
    return render_template(
        "sms_module/campaign_edit.html",
        campaign=campaign,
        shop=shop,
        form=form,
        errors=errors,
        texts_only=texts_only,
        **form_context(shop, form, language),
    )


def module_state(shop: Company) -> dict:
    """What the SMS pages say about the shop's module (off, location missing)."""
    return rules.shop_state(shop).page_context()


def form_context(shop: Company, form: dict[str, str], language: str | None) -> dict:
    """What the campaign form shows besides its fields: the languages, the compose box's
    preview, the live estimate, the shop's zone and quiet hours."""
    quiet_start, quiet_end = forms.quiet_hours_text(shop)
    shown = preview(form["body"])[0] if form["body"] else None
    language = language if language in ("en", "fr") else None
    return {
        "languages": forms.LANGUAGE_CHOICES,
        "language_names": forms.language_names(),
        "preview": shown,
        "estimate": campaigns.estimate(shop, form["body"], form["body_fr"], language),
        "zone": forms.zone_text(shop),
        "quiet_start": quiet_start,
        "quiet_end": quiet_end,
        **module_state(shop),
    }


def render_index(shop: Company, form: dict[str, str], errors: dict[str, str] | None = None):
    """Draw the list of campaigns (a page of it) with the new-campaign form."""
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    rows = db.session.scalars(
        select(SmsCampaign)
        .where(SmsCampaign.company_id == shop.id)
        .order_by(SmsCampaign.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
    ).all()
    more, rows = len(rows) > PER_PAGE, rows[:PER_PAGE]
    found = campaigns.outcomes([c.id for c in rows])
    return render_template(
        "sms_module/campaigns.html",
        shop=shop,
        form=form,
        errors=errors or {},
        campaigns=rows,
        counts={cid: outcome.counts for cid, outcome in found.items()},
        stages={c.id: campaigns.stage(c, found[c.id]) for c in rows},
        stage_labels=forms.STAGE_LABELS,
        bucket_labels=forms.BUCKET_LABELS,
        page=page,
        more=more,
        **form_context(shop, form, form["language"]),
    )
