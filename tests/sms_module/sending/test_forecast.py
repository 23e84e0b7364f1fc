"""Each shop's share of a queue and when its last message leaves; a campaign's forecast
(issue 14, point 1; PRODUCT.md §7)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from host.extensions import db
from host.models import Company
from plugins.sms_module.models import Queue
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import forecast
from tests.sms_module.sending.support import OPERATOR, add
from tests.support_sms import login_en

S = Status


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
        add({"a": b}, S.QUEUED, segments=7200, queue=Queue.PROMOTIONAL)
        zone = shop.zone if hasattr(shop, "zone") else None
        noon = datetime(2026, 6, 1, 12, 0, tzinfo=zone).astimezone(UTC)
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
