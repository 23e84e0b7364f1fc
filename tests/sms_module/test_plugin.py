"""The module's hooks into the host: option 124 on the Options tab, vetoed without V2V."""

from host.extensions import db
from host.models import Company, CompanyOption
from tests.support_sms import login_en


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
