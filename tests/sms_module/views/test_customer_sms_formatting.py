"""The customer's SMS tab in the Quebec shop's French (issue 12, points 1 and 2): consent
ledger values and opt-outs as French labels, every moment in the shop's time, each
message's history and reason read from their codes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from host.extensions import db
from host.models import Company, Customer
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.sending import service
from tests.conftest import login
from tests.support_pages import page_text
from tests.support_sms import give_consent, module_on

# 19:05 UTC is 14 h 05 in Montreal (EST) on December 1st.
MOMENT = datetime(2026, 12, 1, 19, 5, tzinfo=UTC)


def section(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"(.*?)</(table|section)>', page, re.S)
    assert found, element_id
    return re.sub(r"<[^>]+>", " ", found.group(1))


def test_the_quebec_shops_tab_reads_french_labels_and_shop_time(client, app, shops, time_machine):
    time_machine.move_to(MOMENT, tick=False)
    with app.app_context():
        company = db.session.get(Company, shops["a"]["shop"])
        module_on(company.id)
        give_consent(shops["a"]["customer"])  # signed paper, recorded now
        customer = db.session.get(Customer, shops["a"]["customer"])
        opt_out.opt_out(customer.mobile_phone, "sms_keyword", company.id, "STOP")
        db.session.commit()
        try:
            service.request_send(company, customer=customer, body="Bonjour")
        except service.SendRefused:
            pass  # the phone opted out: kept as a refused message
    login(client, shops["a"]["admin"])  # the Quebec shop reads French
    page = page_text(client.get(f"/sms/customers/{shops['a']['customer']}"))

    ledger = section(page, "sms-consent-ledger")
    assert "Consentement donné" in ledger and "Document papier signé" in ledger
    assert "1 déc. 2026, 14 h 05" in ledger  # recorded at, shop time
    assert "5 janv. 2026" in ledger  # the day consent was obtained
    assert not re.search(r"\b(given|paper)\b", ledger)

    opt_outs = section(page, "sms-opt-outs")
    assert "Désabonnement" in opt_outs and "Mot-clé texté par le client" in opt_outs
    assert "1 déc. 2026, 14 h 05" in opt_outs and "sms_keyword" not in opt_outs

    messages = section(page, "sms-messages")
    assert "Ce téléphone a répondu STOP" in messages  # why, from the stored code
    assert "Refusé : " in messages  # its history, from "refused: opted_out"
    assert "1 déc. 2026, 14 h 05" in messages
    assert "opted_out" not in messages and "2026-12-01" not in messages
