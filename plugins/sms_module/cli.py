"""``crmhost sms …`` commands."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

import click
from flask.cli import with_appcontext

from plugins.sms_module import services
from plugins.sms_module.segments import MessageTooLong, as_json, count_segments


@click.group("sms")
def sms() -> None:
    """The SMS module: segments, price, opt-outs."""


@sms.command("segments")
@click.argument("text")
@click.option("--json", "as_json_output", is_flag=True, help="Print the count as JSON.")
@with_appcontext
def segments(text: str, as_json_output: bool) -> None:
    """Count the segments and price of TEXT."""
    prices = services.pricing()
    try:
        count = count_segments(text, **services.segment_rule())
    except MessageTooLong as exc:
        if as_json_output:
            click.echo(json.dumps({"error": {"code": "too_long", "message": str(exc)}}))
        raise click.ClickException(str(exc)) from exc
    result = as_json(count, prices.price_per_segment, prices.currency)
    if as_json_output:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(
        f"{result['segments']} segment(s), {result['encoding']}, {result['units']} units, "
        f"{result['price']} {result['currency']}"
    )
    if result["unicode_characters"]:
        click.echo("Characters forcing Unicode: " + " ".join(result["unicode_characters"]))


@sms.command("price")
@click.argument("amount", required=False)
@click.option("--currency", default=None, help="Three-letter currency code, e.g. CAD.")
@with_appcontext
def price(amount: str | None, currency: str | None) -> None:
    """Show or set the price per segment (operator)."""
    current = services.pricing()
    if amount is None:
        click.echo(f"{current.price_per_segment} {current.currency} per segment")
        return
    try:
        value = Decimal(amount)
        if not value.is_finite():
            raise InvalidOperation
        saved = services.set_pricing(value, currency or current.currency)
    except InvalidOperation as exc:
        raise click.ClickException(f"{amount!r} is not a price such as 0.0100.") from exc
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{saved.price_per_segment} {saved.currency} per segment")
