"""A message's price (PRODUCT.md §8) in exact Decimals, the JSON of ``crmhost sms segments``,
and a segments module light enough to import anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.sms_module.texts.segments import as_json, count_segments, price

# --- Price ---


@given(
    st.integers(min_value=0, max_value=10_000),
    st.decimals(min_value=0, allow_nan=False, allow_infinity=False),
)
def test_price_is_segments_times_price_per_segment_exactly(segments, per_segment):
    result = price(segments, per_segment)
    assert isinstance(result, Decimal)
    assert Fraction(result) == segments * Fraction(per_segment)


def test_price_examples():
    assert price(2, Decimal("0.0079")) == Decimal("0.0158")
    assert price(3, Decimal("0.01")) == Decimal("0.03")
    assert price(0, Decimal("0.0079")) == 0
    assert format(price(2, Decimal("-0.00")), "f") == "0.00"
    # More digits than the default context's 28: still exact.
    many = Decimal("0." + "3" * 40)
    assert price(7, many) == Decimal("2." + "3" * 39 + "1")


@pytest.mark.parametrize("bad", [0.0079, 1, "0.0079"])
def test_price_per_segment_must_be_a_decimal(bad):
    with pytest.raises(TypeError, match="Decimal"):
        price(1, bad)


@pytest.mark.parametrize("bad", [Decimal("-0.01"), Decimal("NaN"), Decimal("Infinity")])
def test_price_per_segment_must_be_finite_and_not_negative(bad):
    with pytest.raises(ValueError, match="price_per_segment"):
        price(1, bad)


@pytest.mark.parametrize("bad", [-1, True, 1.0])
def test_segments_must_be_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="segments"):
        price(bad, Decimal("0.01"))


# --- JSON shape ---


def test_as_json_has_the_command_shape():
    data = as_json(count_segments("a" * 149 + "ê😀"), Decimal("0.0079"), "CAD")
    assert data == {
        "encoding": "UCS-2",
        "units": 152,
        "segments": 3,
        "unicode_characters": ["ê", "😀"],
        "price": "0.0237",
        "currency": "CAD",
    }
    assert json.loads(json.dumps(data)) == data


def test_as_json_price_is_fixed_point():
    assert as_json(count_segments("hi"), Decimal("1E+1"), "CAD")["price"] == "10"
    assert as_json(count_segments(""), Decimal("0.0079"), "CAD")["price"] == "0.0000"
    assert as_json(count_segments("hi"), Decimal("1E-7"), "CAD")["price"] == "0.0000001"


def test_module_needs_no_flask_database_or_redis():
    code = (
        "import sys, plugins.sms_module.texts.segments\n"
        "heavy = {'flask', 'sqlalchemy', 'redis', 'rq', 'psycopg', 'host'}\n"
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
