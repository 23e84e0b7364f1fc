"""``crmhost sms …``: segments and price, and the sender numbers' commands."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from host.extensions import db
from plugins.sms_module.models import SenderNumber
from tests.sms_module.sending.support import PROMOTIONAL, numbers_of


def test_cli_segments_json(runner):
    result = runner.invoke(args=["sms", "segments", "a" * 200, "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data == {
        "encoding": "GSM-7",
        "units": 200,
        "segments": 2,
        "unicode_characters": [],
        "price": data["price"],
        "currency": "CAD",
    }
    assert Decimal(data["price"]) == 2 * Decimal("0.0100")
    result = runner.invoke(args=["sms", "segments", "é" * 149 + "ê", "--json"])
    data = json.loads(result.output)
    assert (data["encoding"], data["segments"], data["unicode_characters"]) == ("UCS-2", 3, ["ê"])
    result = runner.invoke(args=["sms", "segments", "x" * 1601])
    assert result.exit_code != 0 and "1,600" in result.output


def test_cli_price(runner):
    assert runner.invoke(args=["sms", "price", "0.02", "--currency", "USD"]).exit_code == 0
    assert "0.0200 USD" in runner.invoke(args=["sms", "price"]).output
    bad = runner.invoke(args=["sms", "price", "cheap"])
    assert bad.exit_code != 0 and "not a price" in bad.output


def test_cli_lists_adds_disables_enables_and_sets_rates(runner, app):
    result = runner.invoke(args=["sms", "numbers", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 9 and "+14386013549  promotional" in result.output
    assert "never" in lines[1] and "enabled" in lines[1]

    result = runner.invoke(
        args=["sms", "numbers", "add", "+1 438 601 7777", "--queue", "promotional", "--rate", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "Added +14386017777 (promotional, 3 segment(s)/s, enabled)" in result.output
    result = runner.invoke(args=["sms", "numbers", "rate", "4386017777", "0.5"])
    assert result.exit_code == 0 and "0.5 segment(s)/s" in result.output
    result = runner.invoke(args=["sms", "numbers", "disable", "+14386017777"])
    assert result.exit_code == 0 and "Disabled" in result.output
    with app.app_context():
        row = db.session.scalar(select(SenderNumber).where(SenderNumber.number == "+14386017777"))
        assert (row.enabled, row.rate) == (False, Decimal("0.5"))
    assert runner.invoke(args=["sms", "numbers", "enable", "+14386017777"]).exit_code == 0
    with app.app_context():
        assert "+14386017777" in numbers_of("promotional")


@pytest.mark.parametrize(
    "args, message",
    [
        (["add", "nope", "--queue", "transactional"], "is not a phone number"),
        (["add", "+14386017777", "--queue", "bulk"], "is not a queue"),
        (
            ["add", "+14386013562", "--queue", "transactional"],
            "already in the pool of the Transactional queue",
        ),
        (["rate", "+14386013562", "0"], "is not a rate"),
        (["rate", "+14386017777", "1"], "in no pool"),
        (["disable", "x"], "is not a phone number"),
    ],
)
def test_cli_refusals_are_clear(runner, args, message):
    result = runner.invoke(args=["sms", "numbers", *args])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_warns_when_a_pool_is_left_empty(runner):
    assert runner.invoke(args=["sms", "numbers", "disable", PROMOTIONAL[0]]).exit_code == 0
    result = runner.invoke(args=["sms", "numbers", "disable", PROMOTIONAL[1]])
    assert result.exit_code == 0 and "no enabled number left" in result.output


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("100000", "must be below 100,000"),
        ("1e400", "must be below 100,000"),
        ("0.123456", "5 decimals at most"),
        ("0.000001", "above zero is 0.00001 at least"),
        ("1e-99999999", "above zero is 0.00001 at least"),  # was saved as 0
        ("1e999999999", "must be below 100,000"),
        ("NaN", "not a price"),
        ("Infinity", "not a price"),
        ("sNaN", "not a price"),
    ],
)
def test_cli_price_refuses_what_the_price_column_cannot_hold(runner, amount, message):
    # Issue 13 §10: Numeric(10, 5) holds below 100,000 with 5 decimals; PostgreSQL refuses more.
    bad = runner.invoke(args=["sms", "price", amount])
    assert bad.exit_code == 1 and message in bad.output and "Traceback" not in bad.output
    assert "0.0100 CAD" in runner.invoke(args=["sms", "price"]).output  # unchanged
    assert runner.invoke(args=["sms", "price", "99999.99999"]).exit_code == 0
