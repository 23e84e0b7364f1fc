"""``crmhost sms …`` commands."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal, InvalidOperation

import click
from flask import current_app
from flask.cli import with_appcontext

from host.api import InvalidPhone, normalize_phone
from plugins.sms_module.conversations import inbound
from plugins.sms_module.sending import pools
from plugins.sms_module.texts.pricing import pricing, segment_rule, set_pricing
from plugins.sms_module.texts.segments import MessageTooLong, as_json, count_segments


@click.group("sms")
def sms() -> None:
    """The SMS module: segments, price, opt-outs."""


@sms.command("segments")
@click.argument("text")
@click.option("--json", "as_json_output", is_flag=True, help="Print the count as JSON.")
@with_appcontext
def segments(text: str, as_json_output: bool) -> None:
    """Count the segments and price of TEXT."""
    prices = pricing()
    try:
        count = count_segments(text, **segment_rule())
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
    current = pricing()
    if amount is None:
        click.echo(f"{current.price_per_segment} {current.currency} per segment")
        return
    try:
        value = Decimal(amount)
        if not value.is_finite():
            raise InvalidOperation
        saved = set_pricing(value, currency or current.currency)
    except InvalidOperation as exc:
        raise click.ClickException(f"{amount!r} is not a price such as 0.0100.") from exc
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{saved.price_per_segment} {saved.currency} per segment")


@sms.group("numbers")
def numbers() -> None:
    """The sender pools: list numbers, add, disable, enable, set a rate."""


def _pool_command(action):
    """Run a pool change, turning a PoolError into a clear message and a non-zero exit."""
    try:
        return action()
    except pools.PoolError as exc:
        raise click.ClickException(str(exc)) from exc


def _describe(row) -> str:
    state = "enabled" if row.enabled else "disabled"
    return f"{row.number} ({row.queue.value}, {row.rate.normalize():f} segment(s)/s, {state})"


def _warn_if_empty(queue) -> None:
    if not pools.pool(queue):
        click.echo(f"Warning: the {queue.value} pool has no enabled number left.", err=True)


@numbers.command("list")
@with_appcontext
def numbers_list() -> None:
    """List every number with its queue, rate, state and last send."""
    counts = pools.conversation_counts()
    click.echo(
        f"{'NUMBER':<14}{'QUEUE':<15}{'RATE/S':>8}  {'STATE':<10}{'CONV.':>6}  LAST SEND (UTC)"
    )
    for row in pools.all_numbers():
        last = row.last_sent_at.strftime("%Y-%m-%d %H:%M:%S") if row.last_sent_at else "never"
        state = "enabled" if row.enabled else "disabled"
        rate = f"{row.rate.normalize():f}"
        click.echo(
            f"{row.number:<14}{row.queue.value:<15}{rate:>8}  {state:<10}"
            f"{counts.get(row.id, 0):>6}  {last}"
        )


@numbers.command("add")
@click.argument("number")
@click.option("--queue", "queue", required=True, help="transactional or promotional.")
@click.option("--rate", default="1", show_default=True, help="Segments per second.")
@with_appcontext
def numbers_add(number: str, queue: str, rate: str) -> None:
    """Add NUMBER to a queue's pool."""
    row = _pool_command(lambda: pools.add_number(number, queue, rate))
    click.echo(f"Added {_describe(row)}.")


@numbers.command("disable")
@click.argument("number")
@with_appcontext
def numbers_disable(number: str) -> None:
    """Stop sending on NUMBER (its conversations move to another number)."""
    row = _pool_command(lambda: pools.disable_number(number))
    click.echo(f"Disabled {_describe(row)}.")
    _warn_if_empty(row.queue)


@numbers.command("enable")
@click.argument("number")
@with_appcontext
def numbers_enable(number: str) -> None:
    """Send on NUMBER again."""
    row = _pool_command(lambda: pools.enable_number(number))
    click.echo(f"Enabled {_describe(row)}.")


@numbers.command("rate")
@click.argument("number")
@click.argument("rate")
@with_appcontext
def numbers_rate(number: str, rate: str) -> None:
    """Set NUMBER's rate in segments per second (1 for a US/Canada long code)."""
    row = _pool_command(lambda: pools.set_rate(number, rate))
    click.echo(f"Set {_describe(row)}.")


@sms.command("receive")
@click.argument("phone")
@click.argument("number")
@click.argument("text")
@with_appcontext
def receive(phone: str, number: str, text: str) -> None:
    """Take TEXT from PHONE to our NUMBER as if the carrier delivered it (simulator demos)."""
    if current_app.config["SMS_PROVIDER"] != "simulator":
        raise click.ClickException("Only the simulator takes SMS from the command line.")
    try:
        phone, number = normalize_phone(phone), pools.get_number(number).number
    except (InvalidPhone, pools.PoolError) as exc:
        raise click.ClickException(str(exc)) from exc
    received = inbound.receive("SM" + uuid.uuid4().hex, phone, number, text)
    routed = received.message.company.name if received.message.company else "the operator"
    what = f"keyword {received.keyword.upper()}" if received.keyword else "reply"
    click.echo(f"Received {what} from {phone} to {number}: routed to {routed}.")


@sms.command("seed-bench")
# The bounds are seed_bench.MAX_MESSAGES and MAX_SHOPS (not imported here: the seeding
# modules load only when the command runs); a typo such as 10000000000 is a usage error.
@click.option("--messages", type=click.IntRange(1, 10_000_000), required=True, help="How many.")
@click.option("--shops", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--append", is_flag=True, help="Add to a database that already has messages.")
@with_appcontext
def seed_bench(messages: int, shops: int, append: bool) -> None:
    """Fill the database with realistic shops, customers and messages for the benchmarks
    (issue 14). Seeded users: admin-<shop id>@seed.example and staff-<shop id>@seed.example,
    password "seed-bench"."""
    from plugins.sms_module.seed_bench import AlreadySeeded, NotReady, check, described, seed

    try:
        check(messages, shops, append)  # before the progress bar: nothing written yet
        with click.progressbar(length=messages, label="Seeding messages") as bar:
            counts, seconds = seed(messages, shops, append=append, progress=bar.update)
    except AlreadySeeded as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(2) from exc
    except NotReady as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(described(counts, seconds))
