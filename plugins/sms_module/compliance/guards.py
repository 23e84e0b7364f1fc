"""Is a scheduled text still true? Checked when its appointment changes and again just
before the carrier call (issue: "every text a customer gets is true when it leaves").

An event's text (PRODUCT.md §10) carries the appointment it is about, the start time it
states, a ``Guard`` and an expiry (``SmsMessage.expires_at``). ``stale`` tells why such a
message must not leave any more; ``guard_for`` gives a new event text its guard. A message
with no guard (an invoice's thanks, a welcome, a staff message) only expires if it has an
expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from host.api import Appointment, AppointmentStatus, db
from plugins.sms_module.models import Guard, Kind, SmsCampaign, SmsMessage, Withdrawal
from plugins.sms_module.models.campaigns import CampaignStatus

# The appointment statuses in which a visit is still ahead of the customer.
UPCOMING_STATUSES = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED})

# The guard of each event's text; events not listed have none.
GUARDS: dict[str, Guard] = {
    Kind.APPOINTMENT_BOOKED: Guard.UPCOMING,
    Kind.APPOINTMENT_MOVED: Guard.UPCOMING,
    Kind.APPOINTMENT_REMINDER: Guard.UPCOMING,
    Kind.VEHICLE_READY: Guard.READY,
    Kind.APPOINTMENT_CANCELLED: Guard.CANCELLED,
}
# The texts that are useless once the appointment's start has passed.
EXPIRE_AT_START = frozenset(
    {
        Kind.APPOINTMENT_BOOKED,
        Kind.APPOINTMENT_MOVED,
        Kind.APPOINTMENT_REMINDER,
        Kind.APPOINTMENT_CANCELLED,
    }
)


@dataclass(frozen=True)
class Truth:
    """What keeps a new event text true: its guard, the start it states, its expiry."""

    guard: Guard | None
    appointment_id: int | None
    appointment_starts_at: datetime | None
    expires_at: datetime | None

    def stamp(self, message: SmsMessage) -> None:
        """Write the guard on ``message`` (not yet committed)."""
        message.guard = self.guard
        message.appointment_id = self.appointment_id
        message.appointment_starts_at = self.appointment_starts_at
        message.expires_at = self.expires_at


def guard_for(kind: str, appointment: Appointment | None) -> Truth | None:
    """Return what keeps the text of event ``kind`` about ``appointment`` true, or ``None``
    for a text that stays true (no appointment)."""
    if appointment is None:
        return None
    starts = appointment.starts_at
    return Truth(
        guard=GUARDS.get(kind),
        appointment_id=appointment.id,
        appointment_starts_at=starts,
        expires_at=starts if kind in EXPIRE_AT_START else None,
    )


def stale(message: SmsMessage, now: datetime) -> str | None:
    """Return why ``message`` is no longer true at ``now`` (a ``Withdrawal`` code for its
    history, with the appointment's status after a colon where it tells more), or ``None``
    when it may still go.

    Its expiry passed (a reminder held by a backlog or the night past the appointment's
    start); its campaign was canceled (the cancel withdraws the campaign's messages itself:
    this holds if one slipped past it); or its guard fails: the appointment is gone, no
    longer upcoming (in progress, ready, completed, cancelled), moved to another time than
    the text states or into the past, no longer Ready (completed: the vehicle was picked
    up), no longer cancelled.
    """
    if message.expires_at is not None and message.expires_at <= now:
        return Withdrawal.EXPIRED
    if message.campaign_id is not None:
        campaign = db.session.get(SmsCampaign, message.campaign_id)
        if campaign is not None and campaign.status == CampaignStatus.CANCELED:
            return Withdrawal.CAMPAIGN_CANCELED
    if message.guard is None or message.appointment_id is None:
        return None
    appointment = db.session.get(Appointment, message.appointment_id)
    if appointment is None:
        return Withdrawal.APPOINTMENT_GONE
    status = AppointmentStatus(appointment.status)
    if message.guard == Guard.UPCOMING:
        if status not in UPCOMING_STATUSES:
            return f"{Withdrawal.NOT_UPCOMING}: {status.value}"
        if message.appointment_starts_at and appointment.starts_at != message.appointment_starts_at:
            return Withdrawal.MOVED
        if appointment.starts_at <= now:
            return Withdrawal.STARTED
    elif message.guard == Guard.READY and status != AppointmentStatus.READY:
        return f"{Withdrawal.NOT_READY}: {status.value}"
    elif message.guard == Guard.CANCELLED and status != AppointmentStatus.CANCELLED:
        return f"{Withdrawal.NOT_CANCELLED}: {status.value}"
    return None
