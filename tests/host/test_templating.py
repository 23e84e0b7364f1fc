"""Error pages and request checks of every page (``host/templating.py``): NUL bytes are
refused before any view, and CSRF is enforced with a friendly page."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.host.support_views import CUSTOMER
from tests.support_pages import csrf_token, page_text, row_counts


def test_nul_bytes_are_refused_before_any_view(admin, app):
    before = row_counts(app)
    for response in [
        admin.get("/customers/?q=%00"),
        admin.get("/reports/legacy_sent_sms_log?phone=%00"),
        admin.post("/customers/new", data={**CUSTOMER, "last_name": "Nul\x00"}),
    ]:
        assert response.status_code == 400
        assert "Remove the invisible control characters." in page_text(response)
    assert row_counts(app) == before


# -- CSRF ------------------------------------------------------------------------------


def test_csrf_refuses_a_post_without_token_with_a_friendly_page(make_app, shops):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"email": shops["a"]["admin"], "password": PASSWORD})
    assert response.status_code == 400
    text = page_text(response)
    assert "Traceback" not in text
    assert "This form has expired or did not come from this site." in text or "expiré" in text


def test_csrf_real_form_flow_works(make_app, shops):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = csrf_token(client.get("/login"))
    data = {"email": shops["a"]["admin"], "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    before = row_counts(app)
    token = csrf_token(client.get("/customers/new"))
    response = client.post("/customers/new", data={**CUSTOMER, "csrf_token": token})
    assert response.status_code == 302
    assert row_counts(app)["Customer"] == before["Customer"] + 1
    assert client.post("/customers/new", data=CUSTOMER).status_code == 400
    assert row_counts(app)["Customer"] == before["Customer"] + 1


# -- Shop time ----------------------------------------------------------------------------


def test_a_time_says_utc_while_the_shops_province_is_unknown(app):
    """Times are shop time (issue 12 point 2); before the province is filled in there is no
    shop time, and the time says it is UTC rather than pass for the shop's."""
    from datetime import UTC, datetime

    from host.models import Company
    from host.templating import localtime

    moment = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    quebec = Company(name="Q", country="CA", province="QC", language="en")
    unknown = Company(name="U", country="CA", province=None, language="en")
    with app.test_request_context():
        assert localtime(moment, quebec) == "Dec 1, 2026, 9:00\u202fa.m."
        assert localtime(moment, unknown) == "Dec 1, 2026, 2:00\u202fp.m. UTC"
        assert localtime(moment, None).endswith(" UTC")
