"""What the pages say of a canceled campaign, in English and in French (every text the
product shows is true): its Recipients row says how many customers were asked and how many
messages were canceled, "none" only when none was written; each Canceled message of its list
says why; the notice after the cancel counts the campaign's messages apart from the
first-SMS disclaimers canceled with them."""

from __future__ import annotations

import re

import pytest

from host.extensions import db
from plugins.sms_module import campaigns
from plugins.sms_module.campaigns import chunks, pipeline
from plugins.sms_module.models import SmsCampaign, Status
from plugins.sms_module.models.campaigns import CampaignStatus
from tests.conftest import login
from tests.sms_module.campaigns.support import (
    add_customer,
    campaign_messages,
    cancel_after_the_first_chunk,
    new_campaign,
)
from tests.support_pages import page_text
from tests.support_sms import module_on


def recipients(page: str) -> str:
    """The text of the campaign page's Recipients cell, its spaces folded."""
    cell = re.search(r'<td id="campaign-recipients">(.*?)</td>', page, re.S)
    assert cell, "no Recipients row"
    return " ".join(re.sub(r"<[^>]+>", " ", cell.group(1)).split())


def why_of(page: str, status: str) -> list[str]:
    """The "Why" cell of each message of the campaign's list in ``status``."""
    table = page[page.index('id="campaign-messages"') :]
    found = re.findall(rf'<tr data-status="{status}"[^>]*>(.*?)</tr>', table, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in found]
    return [" ".join(re.sub(r"<[^>]+>", " ", row[3]).split()) for row in cells]


def notice(page: str) -> str:
    """The flashed notice on the page."""
    found = re.search(r'class="flash[^"]*"[^>]*>(.*?)</', page, re.S)
    assert found, "no notice"
    return " ".join(found.group(1).split())


def test_canceled_during_its_fan_out_the_page_says_what_was_written_and_canceled(
    app, client, shops, monkeypatch
):
    """The shop cancels from its page while the fan-out is between two chunks: the first
    chunk's customers were asked (one refused, two got a message and their phone a
    disclaimer), so the page says so, not "None"; each Canceled message says why; the
    notice counts the two messages apart from the two disclaimers."""
    with app.app_context():
        a = shops["a"]["shop"]
        module_on(a)
        for n in range(5):
            add_customer(a, f"C{n}", f"+1514555030{n}")
        cid = new_campaign(a, status=CampaignStatus.CONFIRMED)
    monkeypatch.setattr(chunks, "SIZE", 3)  # shop A's own customer (no consent), C0, C1
    monkeypatch.setattr(pipeline, "WRITERS", 1)
    login(client, shops["a"]["admin"])  # shop A reads French
    answers = []

    def cancel_from_the_page():
        answers.append(client.post(f"/sms/campaigns/{cid}/cancel"))

    cancel_after_the_first_chunk(monkeypatch, cancel_from_the_page)
    with app.app_context():
        assert campaigns.prepare(cid) == "canceled"
        found = db.session.get(SmsCampaign, cid)
        assert found.status == CampaignStatus.CANCELED and found.prepared_at is None
        statuses = sorted(m.status for m in campaign_messages(cid))
        assert statuses.count(Status.CANCELED) == 4 and statuses.count(Status.FAILED) == 1
    [answer] = answers
    assert answer.status_code == 303
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    assert notice(page) == (
        "Campagne « Winter » annulée : 2 message(s) ne partiront pas, ni les 2 avis du "
        "premier texto qui devaient les précéder."
    )
    assert recipients(page) == (
        "Annulée pendant la préparation de ses messages : 3 client(s) visé(s), "
        "1 refusé(s) ; 2 message(s) annulé(s) avant leur départ."
    )
    assert "Aucun" not in recipients(page)
    assert why_of(page, "canceled") == ["La campagne a été annulée."] * 2
    assert why_of(page, "failed") == [
        "Aucun consentement exprès n'est enregistré pour ce destinataire."
    ]
    client.get("/language/en")
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    assert recipients(page) == (
        "Canceled while its messages were being prepared: 3 customer(s) asked, 1 refused; "
        "2 message(s) canceled before they left."
    )
    assert why_of(page, "canceled") == ["The campaign was canceled."] * 2
    # The list too gives the customers asked, not a dash.
    listing = page_text(client.get("/sms/campaigns/"))
    row = listing[listing.index(f'data-campaign="{cid}"') :]
    assert "<td data-recipients>3</td>" in row[: row.index("</tr>")]


NOTICES = {
    "en": 'Campaign "Winter" canceled: 2 message(s) will not leave, nor 1 first-SMS disclaimer '
    "that was to precede them.",
    "fr": "Campagne « Winter » annulée : 2 message(s) ne partiront pas, ni 1 avis du premier "
    "texto qui devait les précéder.",
}
RECIPIENTS = {
    "en": "4 customer(s) asked, 2 refused when prepared; 2 message(s) canceled before they left.",
    "fr": "4 client(s) visé(s), 2 refusé(s) à la préparation ; 2 message(s) annulé(s) avant "
    "leur départ.",
}
CANCELED_WHY = {"en": "The campaign was canceled.", "fr": "La campagne a été annulée."}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_canceled_after_its_fan_out_the_page_counts_the_canceled(
    app, client, shops, audience, language
):
    """Prepared, then canceled from the page: 4 customers asked (2 refused), the 2 messages
    waiting canceled with the new phone's disclaimer: the notice says 2 messages and 1
    disclaimer, the Recipients row the 2 canceled, each Canceled message why."""
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"], status=CampaignStatus.CONFIRMED)
        assert campaigns.prepare(cid) == "prepared: 4 recipient(s), 2 refused"
    login(client, shops["a"]["admin"])
    client.get(f"/language/{language}")
    response = client.post(f"/sms/campaigns/{cid}/cancel")
    assert response.status_code == 303
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    assert notice(page) == NOTICES[language]
    assert recipients(page) == RECIPIENTS[language]
    assert why_of(page, "canceled") == [CANCELED_WHY[language]] * 2
    assert len(why_of(page, "failed")) == 2 and all(why_of(page, "failed"))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_canceled_before_it_went_the_page_says_none_and_the_notice_nothing(
    app, client, shops, audience, language
):
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"], status=CampaignStatus.CONFIRMED)
    login(client, shops["a"]["admin"])
    client.get(f"/language/{language}")
    assert client.post(f"/sms/campaigns/{cid}/cancel").status_code == 303
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    with app.app_context():
        assert campaign_messages(cid) == []
    expected = {
        "en": (
            'Campaign "Winter" canceled before its messages were written: it sends nothing.',
            "None: the campaign was canceled before it went.",
        ),
        "fr": (
            "Campagne « Winter » annulée avant que ses messages soient écrits : elle "
            "n'envoie rien.",
            "Aucun : la campagne a été annulée avant son départ.",
        ),
    }[language]
    assert (notice(page), recipients(page)) == expected
