"""The module's hooks into the host: option 124 on the Options tab, vetoed without V2V, and
the V2V number kept while the option is on."""

import html
import re

from host.extensions import db
from host.models import Company, CompanyOption
from tests.support_sms import login_en, module_on


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


def test_the_v2v_number_cannot_be_emptied_while_option_124_is_on(client, app, shops):
    shop = shops["a"]["shop"]
    with app.app_context():
        module_on(shop)
    login_en(client, shops["a"]["admin"])
    url = f"/companies/{shop}"
    data = {"name": "Garage A", "v2v_number": " ", "country": "CA", "province": "QC"}
    refused = client.post(url, data={**data, "language": "fr"})
    assert refused.status_code == 422
    page = html.unescape(refused.get_data(as_text=True))
    # The form says why, beside the V2V field, and saves nothing.
    field = re.search(
        r'<div class="field has-error">\s*<label for="v2v_number">.*?</div>', page, re.S
    )
    assert field, page
    assert (
        'The V2V organization number cannot be emptied while option 124 "Use the new SMS '
        'module" is on: switch the option off on the Options tab first.'
    ) in field.group()
    with app.app_context():
        assert db.session.get(Company, shop).v2v_number == "V2V-a"
    # Once the option is off, the number may be emptied.
    with app.app_context():
        module_on(shop, False)
    assert client.post(url, data={**data, "language": "fr"}).status_code == 302
    with app.app_context():
        assert db.session.get(Company, shop).v2v_number is None
