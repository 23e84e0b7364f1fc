"""Each shop's share of a queue and when its last message leaves; a campaign's forecast
(issue 14, point 1; PRODUCT.md §7)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest

from host.extensions import db
from host.models import Company
from plugins.sms_module.models import Queue
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import forecast, monitoring
from tests.sms_module.sending.support import OPERATOR, add
from tests.support_sms import login_en

S = Status
PROMO = Queue.PROMOTIONAL


def test_equal_sharing_finish_times():
    # Capacity 2 seg/s; backlogs 10, 30, 30: the small one leaves at (10 + 2·10)/2 = 15 s,
    # the two others share the rest: (10 + 30 + 30)/2 = 35 s.
    assert forecast.finish_times([30, 10, 30], 2) == [35.0, 15.0, 35.0]
    assert forecast.finish_times([0, 4], 1) == [0.0, 4.0]
    assert forecast.finish_times([5], 0) == [math.inf]


def test_remaining_after_shares_equally_until_a_backlog_is_gone():
    # 10 s at 2 seg/s = 20 segments: 10 each; the small one (6) is gone, the big keeps 14,
    # then the 4 left over go to it: 10.
    assert forecast.remaining_after([6, 24], 2, 10) == pytest.approx([0, 10])


def test_shop_shares_split_the_queue_between_busy_shops(app, shops):
    with app.app_context():
        for _ in range(3):
            add(shops, S.QUEUED, segments=2)
        b = dict(shops["b"])
        add({"a": b}, S.QUEUED, segments=1)
        now = datetime.now(UTC)
        rows = [s for s in forecast.shop_shares(now) if s.queue == Queue.TRANSACTIONAL]
        by_shop = {row.company_id: row for row in rows}
        a_row, b_row = by_shop[shops["a"]["shop"]], by_shop[shops["b"]["shop"]]
        assert (a_row.messages, a_row.segments, b_row.segments) == (3, 6, 1)
        assert a_row.fair == b_row.fair == 0.5
        capacity = forecast.capacity(Queue.TRANSACTIONAL)  # six numbers at 1 seg/s
        assert capacity == 6
        assert b_row.drain_seconds == pytest.approx(2 / 6)  # 1 + 1 shared, at 6 seg/s
        assert a_row.drain_seconds == pytest.approx(7 / 6)
        assert rows[0].company_id == shops["a"]["shop"]  # the biggest backlog first


def test_a_campaigns_last_message_waits_for_its_turns_and_the_night(app, shops):
    app.config.update(SMS_QUIET_START_HOUR=21, SMS_QUIET_END_HOUR=8)
    with app.app_context():
        shop = db.session.get(Company, shops["a"]["shop"])
        # Another shop has 7,200 segments waiting on the promotional queue (2 seg/s).
        b = dict(shops["b"])
        zone = shop.zone
        noon = datetime(2026, 6, 1, 12, 0, tzinfo=zone).astimezone(UTC)
        add({"a": b}, S.QUEUED, segments=7200, queue=Queue.PROMOTIONAL, due=noon)
        # 3,600 segments against 7,200: shared 1 seg/s each, done after 3,600 s.
        leaves = forecast.last_message_leaves(shop, 3600, noon, noon)
        assert leaves == noon + timedelta(hours=1)
        # Starting at 20:00 shop time: one hour before the night, two more after 8:00.
        evening = noon + timedelta(hours=8)
        big = forecast.last_message_leaves(shop, 3 * 3600 * 2, evening, evening)
        # 21,600 segments vs 7,200: shared 1/s for 7,200 s, then 2/s: (7,200 + 14,400/2)
        # = 14,400 s of sending; 3,600 s before 21:00, 10,800 s from 8:00: 11:00.
        assert big.astimezone(zone).strftime("%H:%M") == "11:00"


def test_the_queues_page_shows_each_shops_share(client, app, shops):
    with app.app_context():
        add(shops, S.QUEUED, segments=3)
    login_en(client, OPERATOR)
    page = client.get("/sms/operations/").get_data(as_text=True)
    assert 'id="shop-shares"' in page
    assert "Garage A" in page and "<td>100%</td>" in page


def test_the_campaign_review_says_when_its_last_message_leaves(app, shops):
    """The forecast sits under the review's cost, in the shop's time."""
    with app.app_context():
        shop = db.session.get(Company, shops["a"]["shop"])
        now = datetime.now(UTC)
        assert forecast.last_message_leaves(shop, 0, now, now) is not None
        from plugins.sms_module.models import SenderNumber

        for number in db.session.query(SenderNumber).filter_by(queue=Queue.PROMOTIONAL):
            number.enabled = False
        db.session.commit()
        assert forecast.last_message_leaves(shop, 10, now, now) is None


def held_and_due(shops, now, morning):
    """Store shop A's promotional backlog at ``now``: 4 messages (12 segments) held for the
    night until ``morning`` (Queued by a job that met the night, or Scheduled), and 3 due
    (5 segments): one Queued, one Scheduled whose job has not run yet, one Sending."""
    for status in (S.QUEUED, S.QUEUED, S.QUEUED, S.SCHEDULED):
        add(shops, status, segments=3, queue=PROMO, due=morning)
    add(shops, S.QUEUED, segments=2, queue=PROMO, due=now - timedelta(minutes=5))
    add(shops, S.SCHEDULED, segments=1, queue=PROMO, due=now - timedelta(seconds=30))
    add(shops, S.SENDING, segments=2, queue=PROMO, due=now - timedelta(seconds=1))


def test_messages_held_for_the_night_are_no_due_backlog(app, shops):
    with app.app_context():
        zone = db.session.get(Company, shops["a"]["shop"]).zone
        now = datetime(2026, 6, 1, 22, 30, tzinfo=zone).astimezone(UTC)
        morning = datetime(2026, 6, 2, 9, 0, tzinfo=zone).astimezone(UTC)
        held_and_due(shops, now, morning)
        (row,) = [s for s in forecast.shop_shares(now) if s.queue == PROMO]
        assert (row.company_id, row.messages, row.segments) == (shops["a"]["shop"], 3, 5)
        assert forecast.capacity(PROMO) == 2  # two numbers at 1 seg/s
        assert row.drain_seconds == pytest.approx(5 / 2)  # the 5 due segments, not 17
        # The queue's figures: the held ones apart, as later; the drain from the due ones.
        figures = monitoring.queue_figures(now, monitoring.sender_figures(now))
        (promo,) = [q for q in figures if q.queue == PROMO]
        assert (promo.due_messages, promo.due_segments) == (3, 5)
        assert (promo.later_messages, promo.later_segments) == (4, 12)
        assert promo.drain_seconds == pytest.approx(5 / 2)
        assert promo.drain_at == now + timedelta(seconds=2.5)


def test_the_queues_page_shows_held_messages_apart(client, app, shops, time_machine):
    with app.app_context():
        zone = db.session.get(Company, shops["a"]["shop"]).zone
        now = datetime(2026, 6, 1, 22, 30, tzinfo=zone).astimezone(UTC)
        held_and_due(shops, now, datetime(2026, 6, 2, 9, 0, tzinfo=zone).astimezone(UTC))
    time_machine.move_to(now, tick=False)  # the page's clock (before the login: its session)
    login_en(client, OPERATOR)
    page = client.get("/sms/operations/").get_data(as_text=True)
    queue = re.search(r'<tr id="queue-promotional"(.*?)</tr>', page, re.S).group(0)
    assert 'data-messages="3" data-segments="5" data-drain="2.5"' in queue
    assert re.findall(r"<td>(\d+)</td>", queue)[-2:] == ["4", "12"]  # scheduled later
    share = re.search(r'<tr data-queue="promotional"[^>]*>', page).group(0)
    assert 'data-segments="5" data-drain="2.5"' in share


def test_a_campaigns_forecast_counts_held_messages_from_their_send_time(app, shops):
    app.config.update(SMS_QUIET_START_HOUR=21, SMS_QUIET_END_HOUR=8)
    with app.app_context():
        shop = db.session.get(Company, shops["a"]["shop"])
        zone = shop.zone

        def at(day, hour):
            return datetime(2026, 6, day, hour, 0, tzinfo=zone).astimezone(UTC)

        # Shop B's 7,200 segments are held until 8:00 tomorrow (the promotional pool: 2/s).
        add({"a": dict(shops["b"])}, S.QUEUED, segments=7200, queue=PROMO, due=at(2, 8))
        # At 20:00, A's 3,600 segments go alone, at 2/s: done at 20:30, before the night.
        assert forecast.last_message_leaves(shop, 3600, at(1, 20), at(1, 20)) == at(1, 20) + (
            timedelta(minutes=30)
        )
        # Confirmed at 22:00, A's campaign waits for 8:00, when B's messages go too: shared
        # 1/s each, A's last leaves at 9:00.
        assert forecast.last_message_leaves(shop, 3600, at(1, 22), at(1, 22)) == at(2, 9)
        # Set for 10:00 tomorrow: B's were sent from 8:00 on (2 h at 2/s): A alone, 10:30.
        leaves = forecast.last_message_leaves(shop, 3600, at(2, 10), at(1, 22))
        assert leaves == at(2, 10) + timedelta(minutes=30)
