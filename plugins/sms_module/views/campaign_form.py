"""The campaign form of the campaign pages (``views.campaigns``): its fields, what a typed
campaign may not be (each refusal said on its field), and the labels the pages share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from babel.dates import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from host.api import Company, localtime, reader_locale, utcnow, zone_label
from plugins.sms_module import campaigns
from plugins.sms_module.campaigns.review import languages_of, too_long_message
from plugins.sms_module.compliance import quiet_hours
from plugins.sms_module.models import SmsCampaign
from plugins.sms_module.texts.pricing import segment_rule
from plugins.sms_module.texts.segments import MessageTooLong, count_segments

FIELDS = ("name", "body", "body_fr", "send_at", "language")
TEXT_FIELDS = ("name", "body", "body_fr")  # what a sending campaign may still change
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
LANGUAGE_NAMES = {"en": _l("English"), "fr": _l("French")}
BUCKET_LABELS = {
    "waiting": _l("Scheduled / queued"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "failed": _l("Undelivered / failed"),
    "refused": _l("Refused"),
    "canceled": _l("Canceled"),
}
STAGE_LABELS = {
    "draft": _l("Draft: review it, then confirm"),
    "confirmed": _l("Confirmed: waiting for its send time"),
    "sending": _l("Sending"),
    "done": _l("Done: every message has left"),
    "canceled": _l("Canceled: what had not left will not leave"),
}


def language_names() -> dict[str, str]:
    """Return each message language's name, in the reader's language."""
    return {code: str(name) for code, name in LANGUAGE_NAMES.items()}


def blank() -> dict[str, str]:
    return dict.fromkeys(FIELDS, "")


def read(form) -> dict[str, str]:
    """Return the typed fields (a missing one is empty)."""
    return {key: form.get(key, "") for key in FIELDS}


def of_campaign(campaign: SmsCampaign, shop: Company) -> dict[str, str]:
    """Return the form of an existing campaign, its send time as the shop asked it."""
    asked = campaign.requested_send_at or campaign.send_at
    return {
        "name": campaign.name,
        "body": campaign.body,
        "body_fr": campaign.body_fr or "",
        "send_at": asked.astimezone(shop.zone).strftime(TIME_FORMATS[0]) if asked else "",
        "language": campaign.language or "",
    }


def validate(
    shop: Company, form: dict[str, str], texts_only: bool = False, language: str | None = None
) -> tuple[dict[str, str], datetime]:
    """Check the typed campaign; return a message per field in error, and the send time
    (UTC; now when empty). ``texts_only``: a sending campaign, whose time and audience
    (``language``) stay."""
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
    elif len(name.splitlines()) > 1 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        # A name may go into an e-mail subject: a line break there ends a header (issue 13 §10).
        errors["name"] = _("Write this on one line: remove the line breaks.")
    send_at = utcnow()
    if not texts_only:
        if form["language"] not in dict(LANGUAGE_CHOICES):
            errors["language"] = _(
                "Choose the audience: all customers, English or French speakers."
            )
        language = form["language"] or None
        send_at = _send_time(shop, form["send_at"].strip(), errors)
    _check_texts(shop, form, language if language in ("en", "fr") else None, errors)
    return errors, send_at


def _check_texts(shop: Company, form: dict[str, str], language, errors: dict) -> None:
    """Each text alone, then each whole message (with its footer) within the length limit
    (§8), for every language of the audience."""
    rule = segment_rule()
    for key in ("body", "body_fr"):
        text = form[key]
        if key == "body" and not text.strip():
            errors[key] = _("The message is empty: write the text to send.")
        else:
            try:
                count_segments(text, **rule)
            except MessageTooLong as exc:
                errors[key] = _(
                    "The message has %(count)s characters; the limit is %(limit)s.",
                    count=exc.characters,
                    limit=exc.limit,
                )
    body, body_fr = form["body"], form["body_fr"]
    for code in languages_of(language):
        key = "body_fr" if code == "fr" and body_fr.strip() else "body"
        if key in errors:
            continue
        try:
            count_segments(campaigns.message_text(shop, body, body_fr, code), **rule)
        except MessageTooLong as exc:
            errors[key] = too_long_message(exc)


def _send_time(shop: Company, text: str, errors: dict) -> datetime:
    now = utcnow()
    if not text:
        return now
    parsed = parse_local(text, shop)
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
        return max(parsed, now)
    return now


def values(shop: Company, form: dict[str, str], send_at: datetime) -> dict:
    """Return the campaign's columns from a valid form: the send time out of the quiet
    hours (shop time), and the time asked if they moved it."""
    due = quiet_hours.next_morning(send_at, shop)
    return {
        "name": form["name"].strip(),
        "body": form["body"],
        "body_fr": form["body_fr"] if form["body_fr"].strip() else None,
        "language": form["language"] or None,
        "send_at": due,
        "requested_send_at": send_at if due != send_at else None,
    }


def parse_local(text: str, shop: Company) -> datetime | None:
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


def quiet_hours_text(shop: Company) -> tuple[str, str]:
    """Return the quiet hours' (start, end) as the reader writes a time of day, through
    Babel in the reader's locale: ("21 h 00", "08 h 00") in French, ("9:00 p.m.",
    "8:00 a.m.") in English (issue 12 point 2: no "21:00" on a French page)."""
    locale = reader_locale(shop)
    start, end = quiet_hours.quiet_hours()
    return format_time(start, "short", locale=locale), format_time(end, "short", locale=locale)


def zone_text(shop: Company) -> str:
    """Return the shop's time zone named for people ("heure de l'Est (Toronto)"), never its
    IANA id (issue 12 point 2)."""
    return zone_label(shop.zone.key)


def moved_message(campaign: SmsCampaign, shop: Company) -> str:
    """Say that the quiet hours moved the campaign's send time, and to when."""
    start, end = quiet_hours_text(shop)
    return _(
        "%(asked)s falls in the quiet hours (%(start)s to %(end)s, shop time): the campaign "
        "leaves at %(when)s instead.",
        asked=localtime(campaign.requested_send_at, shop),
        start=start,
        end=end,
        when=localtime(campaign.send_at, shop),
    )
