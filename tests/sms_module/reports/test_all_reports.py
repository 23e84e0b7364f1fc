"""Every SMS report at once (``all_reports``): a shop never sees another shop's rows, the
operator sees both, and each report reads with a fixed number of queries however many rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from host.extensions import db
from plugins.sms_module.models import OptOutAction, OptOutEvent, SmsMessage
from plugins.sms_module.models.statuses import Status
from tests.sms_module.reports.support import (
    NEW_REPORTS,
    OPERATOR,
    PHONES,
    T0,
    P,
    T,
    add_message,
    count_queries,
)
from tests.support_sms import login_en


@pytest.mark.parametrize("who", ["admin", "staff"])
def test_a_shop_never_sees_another_shops_rows(client, everything, who, app):
    login_en(client, everything["a"][who])
    for name in NEW_REPORTS:
        for url in (f"/reports/{name}", f"/reports/{name}.csv", f"/reports/{name}?period=day"):
            response = client.get(url)
            assert response.status_code == 200, url
            body = response.get_data(as_text=True)
            assert "Garage B" not in body and PHONES["b"] not in body, url
            assert "30007" not in body and "Carrier violation" not in body, url
    with app.app_context():
        b_ids = [
            m.id for m in db.session.query(SmsMessage).filter_by(company_id=everything["b"]["shop"])
        ]
    assert b_ids
    for message_id in b_ids:
        assert client.get(f"/reports/sms_message_log/{message_id}").status_code == 404


def test_the_operator_sees_both_shops(client, everything):
    login_en(client, OPERATOR)
    body = client.get("/reports/sms_message_log.csv").text
    assert PHONES["a"] in body and PHONES["b"] in body
    cost = client.get("/reports/sms_cost.csv").text
    assert "Garage A" in cost and "Garage B" in cost


def test_reports_read_with_a_fixed_number_of_queries(app, client, shops):
    with app.app_context():
        for _ in range(2):
            add_message(shops, "a", status=Status.DELIVERED, steps=((Status.SENT, 0, "m", None),))
    login_en(client, shops["a"]["staff"])
    urls = [f"/reports/{name}" for name in NEW_REPORTS] + [
        f"/reports/{name}.csv" for name in NEW_REPORTS
    ]
    few = {url: count_queries(app, client, url) for url in urls}
    with app.app_context():
        for i in range(20):
            add_message(
                shops,
                "a",
                status=[Status.DELIVERED, Status.FAILED, Status.SENT][i % 3],
                created=T0 + timedelta(days=i),
                queue=[T, P][i % 2],
                code=str(i),
                steps=((Status.SENT, 0, "m", None), (Status.DELIVERED, 5, "m", None)),
            )
            db.session.add(
                OptOutEvent(
                    phone=PHONES["a"],
                    action=OptOutAction.OPT_OUT,
                    company_id=shops["a"]["shop"],
                    source="sms_keyword",
                    at=T0 + timedelta(days=i),
                )
            )
        db.session.commit()
    many = {url: count_queries(app, client, url) for url in urls}
    assert many == few
