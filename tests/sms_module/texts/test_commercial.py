"""Every commercial message names the shop and says how to unsubscribe (CASL s. 6(2)), in
the customer's language, and the line is counted in the message's segments (§8)."""

from __future__ import annotations

import pytest

from host.models import Company
from plugins.sms_module.texts import commercial
from plugins.sms_module.texts.segments import GSM_7, count_segments


def shop(name: str = "Garage A") -> Company:
    return Company(name=name, country="CA", province="QC", language="fr")


def test_the_line_names_the_shop_and_how_to_unsubscribe_in_each_language():
    assert commercial.footer(shop(), "en") == "Garage A - Reply STOP to unsubscribe"
    assert commercial.footer(shop(), "fr") == "Garage A - Répondez ARRET pour vous désabonner"
    assert commercial.footer(shop(), "FR") == commercial.footer(shop(), "fr")
    with pytest.raises(ValueError):
        commercial.footer(shop(), "de")


def test_the_message_ends_with_the_line_and_stays_gsm_7():
    text = commercial.with_footer("Winter tires: 10% off  \n", shop(), "fr")
    assert text == "Winter tires: 10% off\nGarage A - Répondez ARRET pour vous désabonner"
    assert count_segments(text).encoding == GSM_7  # é is in the GSM alphabet
    # A name typed with a typographic apostrophe does not turn the message into Unicode.
    named = commercial.with_footer("Sale", shop("Garage  D’Amours "), "en")
    assert named == "Sale\nGarage D'Amours - Reply STOP to unsubscribe"
    assert count_segments(named).encoding == GSM_7


def test_the_line_counts_in_the_segments():
    # 140 characters fit one segment alone; with the line they take two (§8: 153 a segment).
    body = "a" * 140
    assert count_segments(body).segments == 1
    assert count_segments(commercial.with_footer(body, shop(), "en")).segments == 2
