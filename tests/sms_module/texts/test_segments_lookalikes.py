"""Look-alike characters (PRODUCT.md §8): each forces Unicode and has a plain replacement."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from plugins.sms_module.texts.segments import (
    GSM_7,
    GSM_BASIC,
    GSM_EXTENSION,
    LOOKALIKES,
    UCS_2,
    count_segments,
    plain_replacements,
    replace_lookalikes,
)
from tests.sms_module.texts.support import any_text, gsm_chars


@given(st.lists(st.one_of(gsm_chars, st.sampled_from(sorted(LOOKALIKES))), max_size=300))
def test_replacing_lookalikes_in_gsm_text_gives_gsm_7(chars):
    text = "".join(chars)
    replaced = replace_lookalikes(text)
    assert count_segments(replaced, max_characters=10_000).encoding == GSM_7
    assert plain_replacements(replaced) == {}


@given(any_text)
def test_replacing_lookalikes_removes_exactly_the_offered_characters(text):
    offered = plain_replacements(text)
    replaced = replace_lookalikes(text)
    remaining = count_segments(replaced, max_characters=10_000).unicode_characters
    assert set(remaining) == set(count_segments(text).unicode_characters) - set(offered)
    assert replace_lookalikes(replaced) == replaced


def test_every_lookalike_forces_unicode_and_is_replaced_by_gsm_basic_characters():
    for lookalike, plain in LOOKALIKES.items():
        assert len(lookalike) == 1
        assert lookalike not in GSM_BASIC | GSM_EXTENSION, repr(lookalike)
        assert set(plain) <= GSM_BASIC, repr(lookalike)


def test_plain_replacements_lists_only_the_lookalikes_present():
    text = "It’s “great” – ça va… ê\u00a0ok"
    assert plain_replacements(text) == {
        "’": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "…": "...",
        "\u00a0": " ",
    }
    assert plain_replacements("plain text, é and ç") == {}


def test_replace_lookalikes_gives_the_plain_text():
    text = "It’s «great» — really…\u2009•\tok"
    assert replace_lookalikes(text) == 'It\'s "great" - really... - ok'
    assert count_segments(text).encoding == UCS_2
    assert count_segments(replace_lookalikes(text)).encoding == GSM_7


def test_replacing_lookalikes_keeps_real_accents():
    assert replace_lookalikes("Ça va, François? Fête!") == "Ça va, François? Fête!"
