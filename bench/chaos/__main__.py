"""``scripts/chaos [--short] [--report PATH] [--only NAME ...]``: build the world, warm every
phone up, run each scenario, print the closing table (and write it to ``--report``).

Exit status: 0 when every scenario passed its audit, 1 when one failed or could not run,
2 when the suite cannot run here (PostgreSQL's or Redis's binaries missing).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import time
import traceback

from bench.chaos import scenarios
from bench.chaos.audit import Result, Scope
from bench.chaos.context import Context
from bench.chaos.product import Product
from bench.chaos.services import MissingTool, pg_bin_dir
from bench.chaos.table import markdown
from bench.chaos.world import World

RATE = 10  # segments per second of every sender number (the migration seeds 1)


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the CI version (about 3 minutes)")
    parser.add_argument("--report", metavar="PATH", help="also write the table to PATH")
    names = [s.name for s in scenarios()]
    parser.add_argument(
        "--only",
        nargs="+",
        choices=names,
        metavar="NAME",
        help=f"run only these scenarios: {', '.join(names)}",
    )
    parser.add_argument("--keep", action="store_true", help="print the world's folder, keep logs")
    return parser.parse_args(argv)


def settings(short: bool) -> dict:
    """The product's settings for the suite: delivery reports fetched after 18 s (issue 15,
    point 3; the product's default is 12 hours), 50 carrier API requests a second for that
    fetch (the default 10 asks 50 messages a minute); in the short run a send lease of 20 s (twice
    the SDK's 10-second timeout) so that a killed worker's message is examined sooner."""
    found = {"SMS_STATUS_FETCH_AFTER_HOURS": 0.005, "SMS_CARRIER_API_PER_SECOND": 50}
    # A forward's retries are set when the web enqueues it: short ones in every process.
    found["SMS_MAIL_RETRY_SECONDS"] = [1, 2]
    if short:
        found["SMS_SEND_LEASE_SECONDS"] = 20
    return found


def stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = arguments(sys.argv[1:] if argv is None else argv)
    try:
        pg_bin_dir()
    except MissingTool as missing:
        print(f"The chaos suite needs {missing} (apt-get install postgresql redis-server).")
        return 2
    chosen = [s for s in scenarios() if not args.only or s.name in args.only]
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    log_file = tempfile.NamedTemporaryFile(prefix="crmhost-chaos-", suffix=".log", delete=False)
    # The product's and the suite's own logs (alembic, a failed enqueue…) go to a file.
    logging.basicConfig(filename=log_file.name, level=logging.INFO, force=True)
    started = time.monotonic()
    mode = "short" if args.short else "full"
    print(f"# Chaos suite ({mode}): {len(chosen)} scenarios")
    try:
        world = World(settings(args.short))
    except MissingTool as missing:
        print(f"The chaos suite needs {missing}.")
        return 2
    logging.basicConfig(filename=log_file.name, level=logging.INFO, force=True)  # after Alembic
    results: list[Result] = []
    try:
        with world.app.app_context():
            product = Product(world)
            ctx = Context(world, product, args.short)
            count = sum(ctx.n(*s.customers) for s in chosen)
            product.set_up(count, RATE)
            world.start_web()
            world.ensure_workers()
            ctx.wait_workers()
            print(
                f"world: PostgreSQL :{world.pg.port}, Redis :{world.redis_server.port}, web "
                f"{world.web_url}, carrier {world.carrier.url}, {count} customers, "
                f"folder {world.tmp}, log {log_file.name} ({time.monotonic() - started:.0f} s)"
            )
            warm_up(ctx)
            for scenario in chosen:
                customers = product.take(ctx.n(*scenario.customers))
                results.append(run_one(ctx, scenario, customers))
    except KeyboardInterrupt:
        print("\nInterrupted: stopping everything the suite started.")
        return 130
    finally:
        if args.keep or not all(r.passed for r in results):
            print(f"logs (web, workers, PostgreSQL) kept in {world.tmp}.kept")
            _keep_logs(world)
        world.close()
    table = markdown(results, mode, time.monotonic() - started)
    print("\n" + table)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as report:
            report.write(table + "\n")
    return 0 if all(r.passed for r in results) else 1


def warm_up(ctx: Context) -> None:
    """Send every customer a first message (and its first-SMS disclaimer), reports on, so
    that each scenario's messages are its own; wait until all of it is Sent or further."""
    product = ctx.product
    customers = product.customers
    scope = Scope("warm-up", {p for _i, p in customers}, product.last_id(), time.time())
    ctx.accept(scope, ctx.post_all([(cid, "Welcome to the shop") for cid, _p in customers]))
    if not ctx.drain(scope, 120):
        raise RuntimeError(f"the warm-up did not settle: {scope.notes}")
    firsts: dict = {}
    for create in ctx.world.carrier.state.snapshot():
        firsts.setdefault(create.message_id, create.at)
    delays = sorted(firsts[m] - at for m, at in scope.at_once.items() if m in firsts)
    print(
        f"warm-up: {len(scope.messages)} customers texted, {scope.notes[-1]}, API → carrier "
        f"p50 {delays[len(delays) // 2]:.1f} s, max {delays[-1]:.1f} s"
    )


def run_one(ctx: Context, scenario, customers: list) -> Result:
    """Run one scenario; a harness error is a failed line, with its traceback in the log."""
    started = time.monotonic()
    try:
        result = scenario.run(ctx, customers)
    except Exception as error:
        logging.getLogger("chaos").exception("scenario %s crashed", scenario.name)
        traceback.print_exc()
        result = Result(scenario.name, failures=[f"the scenario crashed: {error!r}"])
        try:
            ctx.world.carrier.state.reset()
            if ctx.world.redis_server.process is None:
                ctx.world.redis_server.start()
            ctx.world.pg.read_only(False)
        except Exception:  # the next scenario will say what is still broken
            pass
    ctx.say(f"  ({scenario.name}: {time.monotonic() - started:.0f} s)")
    return result


def _keep_logs(world: World) -> None:
    import shutil

    kept = world.tmp + ".kept"
    shutil.copytree(world.tmp, kept, dirs_exist_ok=True)
    for name in ("postgres.log", "redis.log"):
        try:
            shutil.copy(f"{world.pg.root}/{name}", kept)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
