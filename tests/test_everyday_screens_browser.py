"""Every page a shop's people and the operator open, walked in Chromium (issue 12's "done
when"): the Quebec shop's French pages hold no English string of the catalog, no page in
either language shows an ISO timestamp or a raw code, and no page is wider than the window
with a 2,000-character word, a long URL and a long name on it.

The walk follows the links of each page from the home page and the shop's main pages, one
page per kind (``/customers/12`` and ``/customers/13`` are one kind), on a shop whose SMS
history has a bit of everything: sent, delivered, refused by a rule, failed at the carrier,
scheduled, canceled, received, an opt-out, a consent, and the long-text fixtures.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po

from host.extensions import db
from host.models import Company, Customer
from tests.support_browser import log_in

pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "host" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"

# Not pages: downloads, JSON, switches that redirect, the way out.
SKIPPED = re.compile(r"(\.csv|\.json|/export|/metrics|/language/|/logout|/static/|/api/)")
MAX_PAGES = 90
WIDTHS = (1024, 390)

LONG_WORD = "Réparation" + "x" * 1990  # 2,000 characters, no space
LONG_URL = "https://exemple.ca/" + "/".join(f"dossier{n}" for n in range(60)) + "?suivi=abc"
LONG_NAME = "Marie-Ève-Geneviève-Anne-" + "Laurence" * 9  # 97 characters, no space

# An ISO 8601 timestamp as programs write it: 2026-01-05T09:30:00, 2026-01-05 09:30:00+00:00.
ISO_TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|[+-]\d{2}:\d{2}\b(?!\s*\$)")
# A code written for programs: first_contact, appointment_reminder, v2v_missing.
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def english_strings() -> list[re.Pattern]:
    """The catalog's English source strings a French page must not show: each translated
    msgid whose French differs, as the literal parts between its placeholders that are long
    enough not to be a French word too (two words and more, or one capitalised word of six
    letters or more)."""
    with open(CATALOG, "rb") as po:
        catalog = read_po(po)
    found: set[str] = set()
    for message in catalog:
        if not message.id or message.fuzzy or not message.string:
            continue
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        strings = (message.string,) if isinstance(message.string, str) else message.string
        if any(i in strings for i in ids):
            continue
        for msgid in ids:
            for chunk in re.split(r"%\(\w+\)[sd]|%[sd]|\{\{.*?\}\}|\{\w*\}|<[^>]+>", msgid):
                chunk = chunk.strip(" \t\n.,:;!?()«»\"'—–-…/")
                if (" " in chunk and len(chunk) >= 10) or re.fullmatch(r"[A-Z][a-z]{5,}", chunk):
                    found.add(chunk)
    return [re.compile(r"(?<![\w-])" + re.escape(s) + r"(?![\w-])") for s in sorted(found)]


def add_everything(app, shops) -> None:
    """Give both shops an SMS history with each status, reason and the long texts."""
    from plugins.sms_module import campaigns
    from plugins.sms_module.compliance import consent
    from plugins.sms_module.conversations import inbound
    from plugins.sms_module.models import ConsentMethod, SmsMessage, Status
    from plugins.sms_module.sending import service
    from plugins.sms_module.sending.service import SendRefused
    from tests.sms_module.campaigns.support import new_campaign
    from tests.sms_module.views.support import add_message, routed_reply

    with app.app_context():
        for key in ("a", "b"):
            company = db.session.get(Company, shops[key]["shop"])
            phone, number, _reply = routed_reply(
                shops,
                key,
                body="D'accord, merci" if key == "a" else "Sounds good, thanks",
                sid=f"SMin{key}",
            )
            n = 20 if key == "a" else 30
            long_one = Customer(
                company_id=company.id,
                first_name=LONG_NAME,
                last_name="Côté",
                mobile_phone=f"+1514555{n}01" if key == "a" else f"+1416555{n}01",
            )
            no_consent = Customer(
                company_id=company.id,
                first_name="Gérald",
                last_name="Tremblay",
                mobile_phone=f"+1514555{n}02" if key == "a" else f"+1416555{n}02",
            )
            db.session.add_all([long_one, no_consent])
            db.session.commit()
            consent.give_consent(
                long_one, ConsentMethod.ELECTRONIC, datetime(2026, 3, 2, tzinfo=UTC), "site", None
            )
            db.session.commit()
            # The long texts, as replies of the shop's customer and of the long-named one.
            inbound.receive(f"SMlong{key}", phone, number, LONG_WORD)
            inbound.receive(f"SMurl{key}", phone, number, LONG_URL)
            inbound.receive(f"SMname{key}", long_one.mobile_phone, number, "Bonjour")
            # A rule's refusal: no consent on record.
            with pytest.raises(SendRefused):
                service.request_send(company, customer=no_consent, body="Votre auto est prête")
            # The carrier's failure, an older row with its English reason.
            add_message(
                company.id,
                phone,
                "Rappel: votre rendez-vous demain",
                status=Status.FAILED,
                failure_code="30003",
                failure_reason="Unreachable destination handset",
                customer_id=shops[key]["customer"],
            )
            # Delivered, and one waiting to leave next week.
            add_message(
                company.id,
                phone,
                "Votre facture est prête",
                status=Status.DELIVERED,
                customer_id=shops[key]["customer"],
            )
            service.request_send(
                company,
                customer=db.session.get(Customer, shops[key]["customer"]),
                body="Promotion pneus d'hiver",
                send_at=datetime.now(UTC) + timedelta(days=7),
            )
            # An opt-out by keyword from a third phone.
            inbound.receive(f"SMstop{key}", no_consent.mobile_phone, number, "STOP")
            # A campaign prepared (its messages, a refusal among them) and a draft.
            prepared = new_campaign(company.id, "Pneus d'hiver: 10 % de rabais", name="Hiver")
            campaigns.prepare(prepared)
            new_campaign(company.id, "Mise au point du printemps", name="Printemps" + "x" * 90)
        assert db.session.query(SmsMessage).count() >= 16


def crawl(page, base: str, starts: list[str], check) -> list[str]:
    """Visit ``starts`` and every same-site page their links lead to, one per kind, calling
    ``check(path)`` on each; return the paths visited."""
    seen: set[str] = set()
    queue = list(starts)
    visited = []
    while queue and len(visited) < MAX_PAGES:
        path = queue.pop(0)
        kind = re.sub(r"\d+", "N", urlsplit(path).path) + (
            "?" + re.sub(r"=[^&]*", "", urlsplit(path).query) if urlsplit(path).query else ""
        )
        if kind in seen or SKIPPED.search(path):
            continue
        seen.add(kind)
        response = page.goto(base + path)
        assert response is not None and response.status < 500, path
        if response.headers.get("content-type", "").startswith("text/html"):
            visited.append(path)
            check(path)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            if href.startswith(base) and parts.path:
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return visited


# The visible text of the page, less what is not the interface's: <code> (what to type),
# text marked as another language (a template's English version, a language's own name),
# the language switch, the signed-in e-mail address.
VISIBLE_TEXT = """() => {
  const page = document.documentElement.lang;
  const hidden = Array.from(document.querySelectorAll('code, .lang, .who, textarea, body [lang]'))
    .filter(e => !e.hidden && (!e.lang || e.lang !== page));
  hidden.forEach(e => { e.hidden = true; });
  const text = document.body.innerText;
  hidden.forEach(e => { e.hidden = false; });
  return text;
}"""
CELLS = """() => Array.from(document.querySelectorAll('td, dd, li, span'))
  .map(e => e.innerText.trim())"""


# The innermost elements that reach past the window's right edge, to say what to fix.
WIDEST = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(e => !Array.from(e.children).some(
    c => c.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : ''))
  .join(', ')"""


def raw_codes() -> set[str]:
    """The values programs store (statuses, kinds, queues, directions, consent methods and
    actions): a cell holding one of them shows a code, not a label."""
    from plugins.sms_module.models import codes, compliance, statuses

    found = set()
    for module in (codes, compliance, statuses):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, str) and hasattr(value, "__members__"):
                found |= {str(member.value) for member in value}
    return {code for code in found if code.isascii() and code.islower() and len(code) > 2}


def problems_on(page, path: str, english: list[re.Pattern] | None, codes: set[str]) -> list:
    text = page.evaluate(VISIBLE_TEXT)
    found = []
    if english is not None:
        found += [f"{path}: English {p.pattern!r}" for p in english if p.search(text)]
    found += [f"{path}: ISO timestamp {m!r}" for m in ISO_TIMESTAMP.findall(text)]
    # A template's variable as the shop types it ({{ first_name }}) is not a code shown.
    variables_out = re.sub(r"\{\{.*?\}\}", "", text)
    found += [f"{path}: code {m!r}" for m in SNAKE_CASE.findall(variables_out)]
    found += [f"{path}: raw value {c!r}" for c in page.evaluate(CELLS) if c in codes]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        if wide > 0:
            culprits = page.evaluate(WIDEST)
            found.append(f"{path}: {wide}px wider than a {width}px window ({culprits})")
    page.set_viewport_size({"width": WIDTHS[0], "height": 800})
    return found


def walk(page, serve, app, shops, email: str, language: str, key: str, operator=False):
    add_everything(app, shops)
    base = serve(app)
    page.set_viewport_size({"width": WIDTHS[0], "height": 800})
    log_in(page, base, email, language)
    english = english_strings() if language == "fr" else None
    codes = raw_codes()
    problems: list[str] = []

    def check(path: str) -> None:
        problems.extend(problems_on(page, path, english, codes))

    visited = crawl(page, base, ["/"], check) if operator else []
    if operator:
        page.goto(base + "/")
        page.locator(f"form[action$='/shops/{shops[key]['shop']}/pick'] button").click()
    shop = shops[key]
    starts = ["/", f"/customers/{shop['customer']}", f"/sms/customers/{shop['customer']}"]
    starts += [f"/appointments/{shop['appointment']}", f"/invoices/{shop['invoice']}"]
    starts += [f"/companies/{shop['shop']}", "/customers/new", "/appointments/new"]
    visited += crawl(page, base, [*starts, "/customers?q=cote"], check)
    return visited, problems


def test_the_quebec_shop_reads_french_everywhere(page, serve, app, shops):
    visited, problems = walk(page, serve, app, shops, shops["a"]["admin"], "fr", "a")
    assert len(visited) > 20, visited
    assert any(p.startswith("/reports/") and len(p) > 9 for p in visited), visited
    assert any(p.startswith("/sms/replies/") for p in visited), visited
    assert any(re.fullmatch(r"/sms/campaigns/\d+", p) for p in visited), visited
    assert problems == [], "\n".join(problems)


def test_the_ontario_shop_sees_no_code_timestamp_or_overflow(page, serve, app, shops):
    visited, problems = walk(page, serve, app, shops, shops["b"]["admin"], "en", "b")
    assert len(visited) > 20, visited
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_operators_pages_show_no_code_timestamp_or_overflow(page, serve, app, shops, language):
    visited, problems = walk(
        page, serve, app, shops, "operator@example.com", language, "a", operator=True
    )
    assert len(visited) > 20, visited
    assert problems == [], "\n".join(problems)


def test_the_watch_sees_each_kind_of_problem(page, serve, app):
    """The checks above would see English, a timestamp, a code and a page too wide."""
    probe = (
        "<!doctype html><body><p>Customer management 2026-01-05T09:30:00 first_contact</p>"
        f"<table><tr><td>delivered</td><td>{LONG_WORD}</td></tr></table></body>"
    )
    app.add_url_rule("/walk-probe", "walk_probe", lambda: probe)
    base = serve(app)
    page.goto(f"{base}/walk-probe")
    found = problems_on(page, "/walk-probe", english_strings(), raw_codes())
    kinds = {line.split(": ", 1)[1].split(" ")[0] for line in found}
    assert kinds >= {"English", "ISO", "code", "raw"}, found
    assert any("wider than" in line for line in found), found
