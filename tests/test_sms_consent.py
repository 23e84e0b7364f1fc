"""Option 124, the consent box and its append-only ledger, the opt-out list."""

import csv
import io

import pytest
from sqlalchemy import func, select

from host.extensions import db
from host.models import Company, CompanyOption, Customer
from plugins.sms_module.compliance import keywords, opt_out
from plugins.sms_module.models import (
    AppendOnlyError,
    ConsentEvent,
    ConsentKind,
    OptOut,
    OptOutEvent,
)
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


# -- option 124 -----------------------------------------------------------------------


def test_option_124_is_on_the_options_tab_and_vetoed_without_v2v(client, app, shops):
    login_en(client, shops["a"]["admin"])
    url = f"/companies/{shops['a']['shop']}/options"
    page = client.get(url).get_data(as_text=True)
    assert "124 - Use the new SMS module" in page
    with app.app_context():
        db.session.get(Company, shops["a"]["shop"]).v2v_number = None
        db.session.commit()
    refused = client.post(url, data={"option-124": "on"})
    assert refused.status_code == 422
    assert "V2V organization number" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CompanyOption, (shops["a"]["shop"], 124)) is None
        db.session.get(Company, shops["a"]["shop"]).v2v_number = "V2V-123"
        db.session.commit()
    assert client.post(url, data={"option-124": "on"}).status_code == 302
    with app.app_context():
        assert db.session.get(CompanyOption, (shops["a"]["shop"], 124)).enabled
    # Switching off is never vetoed.
    assert client.post(url, data={}).status_code == 302


def test_sms_pages_say_how_to_switch_the_module_on(client, shops):
    login_en(client, shops["a"]["admin"])
    for url in (f"/sms/customers/{shops['a']['customer']}", "/sms/settings/"):
        page = client.get(url).get_data(as_text=True)
        assert "option 124" in page and "Options" in page, url


# -- consent box ----------------------------------------------------------------------


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


def test_ledger_is_append_only(app, shops):
    from tests.support_sms import give_consent

    with app.app_context():
        give_consent(shops["a"]["customer"])
        event = db.session.scalar(select(ConsentEvent))
        event.reference = "rewritten"
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.scalar(select(ConsentEvent)))
        with pytest.raises(AppendOnlyError):
            db.session.commit()


def test_ledger_exports_as_csv_for_the_shop_only(client, app, shops):
    from tests.support_sms import give_consent

    with app.app_context():
        give_consent(shops["a"]["customer"])
        give_consent(shops["b"]["customer"])
    login_en(client, shops["a"]["admin"])
    response = client.get("/sms/settings/consent.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["customer_id"] for r in rows] == [str(shops["a"]["customer"])]
    assert rows[0]["event"] == "given" and rows[0]["method"] == "paper"
    # The same register through the reports plugin.
    report = client.get("/reports/sms_consent_register.csv").get_data(as_text=True)
    assert "form 12" in report and report.count("\n") == 2


# -- opt-out list ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,opted_out,expected",
    [
        ("STOP", False, "stop"),
        ("stop", False, "stop"),
        (" Arrêt ", False, "stop"),
        ("ARRÊTER", False, "stop"),
        ("désabonner!", False, "stop"),
        ("optout", False, "stop"),
        ("START", True, "start"),
        ("début", True, "start"),
        ("unstop", False, "start"),
        ("oui", True, "start"),
        ("YES", True, "start"),
        ("yes", False, None),
        ("Aide", False, "help"),
        ("info", False, "help"),
        ("HELP", True, "help"),
        ("stop please", False, None),
        ("Merci!", False, None),
    ],
)
def test_keywords(text, opted_out, expected):
    assert keywords.classify(text, opted_out) == expected


def test_opt_out_is_one_row_per_number_archived_not_deleted(app, shops):
    phone = "+15145550101"
    with app.app_context():
        opt_out.opt_out(phone, "sms_keyword", shops["a"]["shop"], "STOP")
        db.session.commit()
        opt_out.opt_out(phone, "provider_error", None, "21610")
        db.session.commit()
        assert opt_out.is_opted_out(phone)
        opt_out.opt_in(phone, "sms_keyword", shops["b"]["shop"], "START")
        db.session.commit()
        assert not opt_out.is_opted_out(phone)
        rows = db.session.scalars(select(OptOut)).all()
        assert [(r.phone, r.active) for r in rows] == [(phone, False)]
        events = [(e.action, e.source, e.raw_message, e.company_id) for e in opt_out.events(phone)]
        assert events == [
            ("opt_out", "sms_keyword", "STOP", shops["a"]["shop"]),
            ("opt_out", "provider_error", "21610", None),
            ("opt_in", "sms_keyword", "START", shops["b"]["shop"]),
        ]
        assert db.session.scalar(select(func.count(OptOutEvent.id))) == 3
