"""The quiet hours: the shop-time night no SMS is planned in (``SMS_QUIET_START_HOUR`` to
``SMS_QUIET_END_HOUR``, 21:00 to 8:00 by default), and where a message moves out of it.

PRODUCT.md does not set these hours: they are the product's own rule (no SMS at night, shop
time), settable per platform. Promotional messages move to the next morning; reminders move
to the evening before, so they still come before the visit (§10).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from host.api import Company, shop_zone
from plugins.sms_module.models import Queue


def quiet_hours() -> tuple[time, time]:
    """Return the shop-time night no promotional SMS goes in: (start, end)."""
    config = current_app.config
    return time(config["SMS_QUIET_START_HOUR"]), time(config["SMS_QUIET_END_HOUR"])


def is_quiet(at: datetime, zone: ZoneInfo) -> bool:
    """Tell whether the moment ``at`` falls in the quiet hours, in ``zone``."""
    start, end = quiet_hours()
    moment = at.astimezone(zone).time()
    # The night spans midnight (21:00 to 8:00) unless the hours say otherwise.
    return (moment >= start or moment < end) if start > end else start <= moment < end


def next_morning(at: datetime, company: Company) -> datetime:
    """Return ``at`` (UTC), or the next end of the quiet hours if it falls in them, shop
    time: 22:30 moves to 8:00 the next morning, 6:00 to 8:00 the same morning."""
    zone = shop_zone(company)
    if not is_quiet(at, zone):
        return at
    _, end = quiet_hours()
    local = at.astimezone(zone)
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, zone).astimezone(UTC)


def evening_before(at: datetime, zone: ZoneInfo) -> datetime:
    """Return ``at``, or, if it falls in the quiet hours, one hour before they began."""
    if not is_quiet(at, zone):
        return at
    start, _ = quiet_hours()
    local = at.astimezone(zone)
    day = local.date() if local.time() >= start else local.date() - timedelta(days=1)
    return datetime.combine(day, start, zone) - timedelta(hours=1)


def held_at_night(queue: str) -> bool:
    """Tell whether messages of ``queue`` wait through the night for the morning: the
    promotional ones (a campaign that outlasts the evening). The send job asks it before
    reading the shop (``held_until_morning``), so a transactional send reads no shop row."""
    return queue == Queue.PROMOTIONAL


def held_until_morning(queue: str, company: Company | None, now: datetime) -> datetime | None:
    """Return when a promotional message may go if ``now`` is the shop's night, else None:
    a campaign that outlasts the evening waits for the morning."""
    if not held_at_night(queue) or company is None:
        return None
    morning = next_morning(now, company)
    return morning if morning > now else None
