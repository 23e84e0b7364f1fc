"""Report pages and CSV exports against the size of the platform (issue 14, point 2).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/reports_bench \\
        .venv/bin/python bench/reports.py [--sizes 10000,100000,1000000 | --as-is] [--json PATH]

Each size of ``--sizes`` (default 10000,100000,1000000 on PostgreSQL, 10000 on the temporary
SQLite database used without ``BENCH_DATABASE_URL``; ``BENCH_REPORT_SIZES`` too) empties the
database, migrates it and fills it with ``crmhost sms seed-bench --messages N``; with
``--as-is`` the database is read as it is (seeded before).

Each report page (the SMS module's and the reports plugin's, with their filters, the second
page, a message's detail, the reply inbox and a conversation) is timed as a request through
Flask's test client, logged in as the biggest shop's administrator and as the operator:
server time, the median of ``--repeat`` (5) runs after one warm-up. Beside each, the median
time of ``SELECT count(*) FROM sms_message`` in the same run (the ratio says how far a page
is from reading the table once). Each CSV export is timed to its first chunk and to its end,
with the most the process's memory grew while sending it. Goal: every page ≤ 300 ms; every
export's first chunk at once (≤ 1 s) and its end well within a proxy's 30 s (≤ 20 s).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from sqlalchemy import func, select, text  # noqa: E402

from bench.figures import write_json  # noqa: E402
from bench.report_pages import next_page, pages_of  # noqa: E402
from host.app import create_app, database_url  # noqa: E402
from host.extensions import db  # noqa: E402
from host.models import Company, Role, User  # noqa: E402
from plugins.sms_module.models import SmsMessage  # noqa: E402

GOAL_MS = 300.0
FIRST_CHUNK_S = 1.0
EXPORT_S = 20.0
PASSWORD = "seed-bench"  # seed-bench's users' password
# The pages drawn on the plot (each as the shop's administrator and as the operator).
PLOTTED = ("status", "log", "cost", "delivery", "error codes", "consent register", "inbox")


def _app(url: str):
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "SMS_PROVIDER": "simulator"}
    )


def _reseed(url: str, size: int) -> None:
    """Empty the database, migrate it and seed ``size`` messages with seed-bench."""
    app = _app(url)
    with app.app_context():
        from flask_migrate import upgrade

        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        db.engine.dispose()
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "flask", "--app", "host.app:create_app", "sms"]
    subprocess.run([*command, "seed-bench", "--messages", str(size)], check=True, env=env)


def _user(email: str, role: Role, company_id: int | None) -> str:
    """The email of a user to log in as, made with ``PASSWORD`` when missing."""
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=email, role=role, company_id=company_id)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    return email


def _client(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, f"{email} cannot log in"
    return client


def _timed(fn, repeat: int) -> float:
    """The median milliseconds of ``repeat`` calls of ``fn`` after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def _page(client, url: str):
    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        response.get_data()

    return get


def _rss_mb() -> float:
    """The process's resident memory now, in MB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _export(client, url: str) -> tuple[float, float, int, float]:
    """(seconds to the first chunk, seconds to the end, lines, MB the process grew by at
    most while sending: the memory never holds the file)."""
    gc.collect()
    before = highest = _rss_mb()
    began = time.perf_counter()
    response = client.get(url, buffered=False)
    assert response.status_code == 200, url
    first, lines = None, 0
    for n, chunk in enumerate(response.response):  # read as a proxy would, kept nowhere
        if first is None:
            first = time.perf_counter() - began
        lines += chunk.count("\n") if isinstance(chunk, str) else chunk.count(b"\n")
        if n % 50 == 0:
            highest = max(highest, _rss_mb())
    response.close()
    return first or 0.0, time.perf_counter() - began, lines, max(highest, _rss_mb()) - before


def measure(app, repeat: int, csv_repeat: int) -> tuple[int, float, dict, dict]:
    """Time every page and export once seeded; return (messages, count(*) ms, pages,
    exports)."""
    with app.app_context():
        messages = db.session.scalar(select(func.count()).select_from(SmsMessage))
        count_ms = _timed(
            lambda: db.session.execute(text("SELECT count(*) FROM sms_message")).scalar(), repeat
        )
        biggest = db.session.execute(
            select(SmsMessage.company_id, func.count())
            .where(SmsMessage.company_id.is_not(None))
            .group_by(SmsMessage.company_id)
            .order_by(func.count().desc())
            .limit(1)
        ).first()[0]
        shop = db.session.get(Company, biggest)
        who = {
            "admin": _user(f"admin-{shop.id}@seed.example", Role.ADMIN, shop.id),
            "operator": _user("operator-bench@seed.example", Role.OPERATOR, None),
        }
        urls = {name: pages_of(shop, name) for name in who}
    pages, exports = {}, {}
    for name, email in who.items():
        client = _client(app, email)
        for label, url in urls[name]["pages"]:
            if url.startswith("next:"):
                url = next_page(client, url.removeprefix("next:"))
            pages[f"{name} {label}"] = _timed(_page(client, url), repeat)
            print(f"  {name:8} {label:34} {pages[f'{name} {label}']:8.1f} ms", flush=True)
        for label, url in urls[name]["exports"]:
            runs = [_export(client, url) for _ in range(csv_repeat)]
            exports[f"{name} {label}"] = sorted(runs)[len(runs) // 2]
            first, total, lines, grown = exports[f"{name} {label}"]
            print(
                f"  {name:8} {label:34} first {first:6.2f} s  end {total:6.2f} s  "
                f"{lines:8d} lines  +{grown:6.1f} MB",
                flush=True,
            )
    return messages, count_ms, pages, exports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="seed these sizes first, e.g. 10000,100000,1000000")
    parser.add_argument("--as-is", action="store_true", help="read the database as it is")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--csv-repeat", type=int, default=1)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL") or ""
    if not url:
        os.environ["CRMHOST_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="crmhost-reports-")
        url = f"sqlite:///{os.environ['CRMHOST_INSTANCE_PATH']}/reports.sqlite"
    url = database_url(url)
    default = "10000,100000,1000000" if url.startswith("postgresql") else "10000"
    chosen = args.sizes or os.environ.get("BENCH_REPORT_SIZES") or default
    sizes = [None] if args.as_is else [int(s) for s in chosen.split(",")]
    figures: dict[str, float | int | str] = {}
    lines: dict[str, list[list[float]]] = {}  # the plot: ms against the messages stored
    met = True
    for size in sizes:
        if size is not None:
            print(f"Seeding {size} messages…", flush=True)
            _reseed(url, size)
        app = _app(url)
        messages, count_ms, pages, exports = measure(app, args.repeat, args.csv_repeat)
        print(f"\n{messages} messages; SELECT count(*) FROM sms_message: {count_ms:.1f} ms")
        print(f"{'page':46} {'ms':>8} {'÷count':>7}  goal ≤ {GOAL_MS:.0f} ms")
        for label, ms in pages.items():
            ok = ms <= GOAL_MS
            met &= ok
            print(f"{label:46} {ms:8.1f} {ms / count_ms:7.2f}  {'met' if ok else 'NOT MET'}")
            figures[f"{messages} {label} ms"] = ms
        print(
            f"\n{'export':46} {'first s':>8} {'end s':>7} {'MB':>6}  goal first ≤ 1 s, end ≤ 20 s"
        )
        for label, (first, total, _lines, grown) in exports.items():
            ok = first <= FIRST_CHUNK_S and total <= EXPORT_S
            met &= ok
            print(
                f"{label:46} {first:8.2f} {total:7.2f} {grown:6.1f}  {'met' if ok else 'NOT MET'}"
            )
            figures[f"{messages} {label} first s"] = first
            figures[f"{messages} {label} end s"] = total
        figures[f"{messages} count(*) ms"] = count_ms
        figures[f"{messages} slowest page ms"] = max(pages.values())
        plotted = {"SELECT count(*)": count_ms, "slowest page": max(pages.values())}
        plotted.update(
            {label: ms for label, ms in pages.items() if label.split(" ", 1)[1] in PLOTTED}
        )
        for label, ms in plotted.items():
            lines.setdefault(label, []).append([messages, ms])
    goal = f"every report page ≤ {GOAL_MS:.0f} ms; CSV first chunk ≤ 1 s, whole ≤ 20 s"
    print(f"\nGoal: {goal}: {'met' if met else 'NOT MET'}")
    series = {"report time (ms) against size": lines}
    write_json("reports", goal, met, figures, series, path=args.json_path)


if __name__ == "__main__":
    main()
