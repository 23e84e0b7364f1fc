"""Segments (PRODUCT.md §8): the guide's rule, GSM 03.38, and properties of the count."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.sms_module.texts.segments import (
    GSM_7,
    GSM_BASIC,
    GSM_EXTENSION,
    UCS_2,
    MessageTooLong,
    SegmentCount,
    count_segments,
)
from tests.sms_module.texts.support import any_text, gsm_chars

# GSM 03.38 default alphabet as code points, 0x00-0x7F in order, written independently of the
# module's string; None is 0x1B, the escape to the extension table.
SPEC_BASIC = [
    0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D, 0xC5, 0xE5,
    0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, None, 0xC6, 0xE6,
    0xDF, 0xC9,
    0x20, 0x21, 0x22, 0x23, 0xA4, *range(0x25, 0x40),
    0xA1, *range(0x41, 0x5B), 0xC4, 0xD6, 0xD1, 0xDC, 0xA7,
    0xBF, *range(0x61, 0x7B), 0xE4, 0xF6, 0xF1, 0xFC, 0xE0,
]  # fmt: skip
SPEC_EXTENSION = [0x0C, 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E, 0x5D, 0x7C, 0x20AC]


def utf16_units(text: str) -> int:
    """Count UTF-16 code units the way a UCS-2/UTF-16 encoder does."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# --- The GSM 03.38 table ---


def test_gsm_basic_table_is_the_standard_one():
    assert len(SPEC_BASIC) == 128
    assert GSM_BASIC == {chr(code) for code in SPEC_BASIC if code is not None}
    assert GSM_EXTENSION == {chr(code) for code in SPEC_EXTENSION}
    assert not GSM_BASIC & GSM_EXTENSION


@pytest.mark.parametrize(
    "ch", ["é", "è", "É", "Ç", "à", "ù", "ì", "ò", "Ä", "ñ", "ß", "£", "¤", "Δ"]
)
def test_accents_in_the_gsm_basic_table_stay_gsm(ch):
    count = count_segments(f"Caf{ch}")
    assert count.encoding == GSM_7
    assert count.unicode_characters == ()
    assert count.units == 4


@pytest.mark.parametrize(
    "ch", ["ê", "ç", "â", "î", "ô", "û", "ë", "ï", "á", "í", "ó", "ú", "È", "`"]
)
def test_accents_outside_the_table_force_unicode(ch):
    # ç (small) is not in GSM 03.38: 0x09 is the capital Ç.
    count = count_segments(f"Fran{ch}ais")
    assert count.encoding == UCS_2
    assert count.unicode_characters == (ch,)
    assert count.units == 8


# --- The guide's rule and its boundaries ---


def test_guide_example_200_regular_characters_are_2_segments():
    assert count_segments("a" * 200) == SegmentCount(GSM_7, 200, 2, (), 200)


def test_guide_example_150_characters_with_one_unicode_are_3_segments():
    count = count_segments("a" * 149 + "ê")
    assert (count.encoding, count.units, count.segments) == (UCS_2, 150, 3)
    assert count.unicode_characters == ("ê",)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", GSM_7, 0, 0),
        ("a", GSM_7, 1, 1),
        ("a" * 153, GSM_7, 153, 1),
        ("a" * 154, GSM_7, 154, 2),
        ("a" * 306, GSM_7, 306, 2),
        ("a" * 307, GSM_7, 307, 3),
        ("ê" * 67, UCS_2, 67, 1),
        ("ê" * 68, UCS_2, 68, 2),
        ("ê" + "a" * 133, UCS_2, 134, 2),
        ("ê" + "a" * 134, UCS_2, 135, 3),
    ],
)
def test_one_rule_at_every_length(text, encoding, units, segments):
    count = count_segments(text)
    assert (count.encoding, count.units, count.segments) == (encoding, units, segments)


def test_extension_characters_count_twice():
    count = count_segments("€" * 77)
    assert (count.encoding, count.units, count.segments, count.characters) == (GSM_7, 154, 2, 77)
    assert count_segments("€" * 76 + "a").units == 153
    assert count_segments("^{}\\[~]|\f€").units == 20


def test_extension_characters_count_once_in_unicode():
    count = count_segments("€ê")
    assert (count.encoding, count.units) == (UCS_2, 2)
    assert count.unicode_characters == ("ê",)


def test_emoji_outside_the_bmp_counts_two_units():
    count = count_segments("Hi 😀")
    assert (count.encoding, count.units, count.characters) == (UCS_2, 5, 4)
    assert count.unicode_characters == ("😀",)
    assert count_segments("😀" * 33 + "a").segments == 1  # 67 units
    assert count_segments("😀" * 34).segments == 2  # 68 units


def test_unicode_characters_are_distinct_in_order_of_first_appearance():
    count = count_segments("ç😀 ê ç 😀 “x”")
    assert count.unicode_characters == ("ç", "😀", "ê", "“", "”")


def test_per_segment_sizes_are_configurable():
    assert count_segments("a" * 160, gsm_per_segment=160).segments == 1
    assert count_segments("a" * 161, gsm_per_segment=160).segments == 2
    assert count_segments("ê" * 70, unicode_per_segment=70).segments == 1
    assert count_segments("ê" * 71, unicode_per_segment=70).segments == 2


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "153"])
def test_per_segment_sizes_must_be_positive_integers(bad):
    with pytest.raises(ValueError, match="gsm_per_segment"):
        count_segments("a", gsm_per_segment=bad)


def test_1600_characters_are_allowed_and_1601_are_refused():
    assert count_segments("a" * 1600).segments == 11
    assert count_segments("ê" * 1600).segments == 24
    with pytest.raises(MessageTooLong) as excinfo:
        count_segments("a" * 1601)
    assert isinstance(excinfo.value, ValueError)
    assert (excinfo.value.characters, excinfo.value.limit) == (1601, 1600)
    assert "1,601 characters" in str(excinfo.value)
    assert "limit is 1,600" in str(excinfo.value)


def test_the_limit_counts_characters_not_units():
    assert count_segments("€" * 1600).units == 3200
    assert count_segments("😀" * 1600).units == 3200
    with pytest.raises(MessageTooLong):
        count_segments("😀" * 1601)
    with pytest.raises(MessageTooLong):
        count_segments("a" * 11, max_characters=10)


def test_text_must_be_a_string():
    with pytest.raises(TypeError):
        count_segments(b"abc")


# --- Properties ---


@given(any_text)
def test_segments_are_units_over_the_segment_size_rounded_up(text):
    count = count_segments(text)
    per_segment = 153 if count.encoding == GSM_7 else 67
    assert count.segments == math.ceil(count.units / per_segment)
    assert count.characters == len(text)


@given(any_text)
def test_units_match_an_independent_count(text):
    count = count_segments(text)
    if any(ch not in GSM_BASIC | GSM_EXTENSION for ch in text):
        assert count.encoding == UCS_2
        assert count.units == utf16_units(text)
    else:
        assert count.encoding == GSM_7
        assert count.units == len(text) + sum(ch in GSM_EXTENSION for ch in text)


@given(any_text, st.characters(), st.integers(min_value=0, max_value=400))
def test_adding_a_character_never_lowers_units_or_segments(text, ch, position):
    position = min(position, len(text))
    before = count_segments(text)
    after = count_segments(text[:position] + ch + text[position:])
    # Units can drop when the encoding switches ("\f[" is 4 GSM units, 3 UCS-2 units
    # once a Unicode character joins), but within one encoding they never do, and the
    # smaller Unicode segment keeps the segment count from ever dropping.
    if after.encoding == before.encoding:
        assert after.units >= before.units
    assert after.segments >= before.segments


@given(st.text(alphabet=gsm_chars, max_size=400))
def test_gsm_only_text_never_reports_unicode_characters(text):
    count = count_segments(text)
    assert count.encoding == GSM_7
    assert count.unicode_characters == ()
