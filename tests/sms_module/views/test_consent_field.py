"""The consent box on the Customer Information tab: evidence asked for, recorded in the
append-only ledger, withdrawn by unticking."""

import pytest
from sqlalchemy import select

from host.extensions import db
from host.models import Customer
from plugins.sms_module.models import ConsentEvent, ConsentKind
from tests.support_sms import login_en


def consent_rows(app, customer_id):
    with app.app_context():
        return [
            (e.kind, e.method, e.reference)
            for e in db.session.scalars(
                select(ConsentEvent)
                .where(ConsentEvent.customer_id == customer_id)
                .order_by(ConsentEvent.id)
            )
        ]


def customer_form(customer_id, app, **extra):
    with app.app_context():
        c = db.session.get(Customer, customer_id)
        data = {
            "first_name": c.first_name,
            "last_name": c.last_name,
            "mobile_phone": c.mobile_phone or "",
            "email": c.email or "",
            "language": c.language or "",
        }
    data.update(extra)
    return data


def test_ticking_the_box_needs_evidence_and_records_it(client, app, shops):
    login_en(client, shops["a"]["staff"])
    cid = shops["a"]["customer"]
    page = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert "Accepts communications by SMS" in page
    refused = client.post(f"/customers/{cid}", data=customer_form(cid, app, sms_consent="on"))
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "how the SMS consent was obtained" in text and "reference" in text
    assert consent_rows(app, cid) == []
    saved = client.post(
        f"/customers/{cid}",
        data=customer_form(
            cid,
            app,
            sms_consent="on",
            sms_consent_method="paper",
            sms_consent_date="2026-11-01",
            sms_consent_reference="signed form 77",
        ),
    )
    assert saved.status_code == 302
    assert consent_rows(app, cid) == [(ConsentKind.GIVEN, "paper", "signed form 77")]
    with app.app_context():
        event = db.session.scalar(select(ConsentEvent))
        assert event.recorded_by.email == shops["a"]["staff"]  # taken from the login
        assert event.obtained_at.date().isoformat() == "2026-11-01"
    # Saving again with the box still ticked records nothing new.
    assert (
        client.post(f"/customers/{cid}", data=customer_form(cid, app, sms_consent="on")).status_code
        == 302
    )
    assert len(consent_rows(app, cid)) == 1
    # Unticking records a withdrawal; the history shows both.
    assert client.post(f"/customers/{cid}", data=customer_form(cid, app)).status_code == 302
    assert [r[0] for r in consent_rows(app, cid)] == [ConsentKind.GIVEN, ConsentKind.WITHDRAWN]
    page = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert "withdrawn" in page and "signed form 77" in page


@pytest.mark.parametrize(
    "extra,message",
    [
        ({"sms_consent_method": "telepathy"}, "how the SMS consent was obtained"),
        ({"sms_consent_date": "2999-01-01"}, "cannot be in the future"),
        ({"sms_consent_date": "yesterday"}, "date the SMS consent was obtained"),
        ({"sms_consent_reference": "x" * 201}, "200 characters"),
        ({"mobile_phone": ""}, "mobile phone"),
    ],
)
def test_bad_evidence_is_refused_and_nothing_is_written(client, app, shops, extra, message):
    login_en(client, shops["a"]["staff"])
    cid = shops["a"]["customer"]
    data = customer_form(
        cid,
        app,
        sms_consent="on",
        sms_consent_method="electronic",
        sms_consent_date="2026-11-01",
        sms_consent_reference="invoice 1042",
    )
    data.update(extra)
    response = client.post(f"/customers/{cid}", data=data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert consent_rows(app, cid) == []


def test_new_customer_with_consent_in_one_save(client, app, shops):
    login_en(client, shops["a"]["staff"])
    response = client.post(
        "/customers/new",
        data={
            "first_name": "Nouveau",
            "language": "",
            "mobile_phone": "514 555 0111",
            "sms_consent": "on",
            "sms_consent_method": "oral",
            "sms_consent_date": "2026-11-20",
            "sms_consent_reference": "phone call",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.first_name == "Nouveau"))
        assert consent_rows(app, customer.id) == [(ConsentKind.GIVEN, "oral", "phone call")]
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "Oral" in page or "oral" in page
