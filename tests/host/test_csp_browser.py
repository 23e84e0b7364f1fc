"""Every main page, host's and plugins', in both languages, as a shop administrator and as
the operator, passes the Content-Security-Policy in Chromium: no inline script, handler or
style the policy refuses (``host/security.py``)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.support_browser import log_in
from tests.support_sms import ready_to_send

pytest.importorskip("playwright.sync_api")

# Not pages: downloads, JSON, switches that redirect, the way out.
SKIPPED = re.compile(r"(\.csv|\.json|/metrics|/language/|/logout|/static/)")
MAX_PAGES = 80


def seed_sms(app, shops) -> None:
    """Give the SMS pages something to show: a sent SMS and the customer's reply."""
    from tests.sms_module.views.support import routed_reply

    with app.app_context():
        ready_to_send(shops, "b")
        routed_reply(shops)


def watch_violations(page) -> list[str]:
    """Collect every CSP violation the page reports, from the console and the DOM event."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return found


def pattern(path: str) -> str:
    """One page per kind: /customers/12 and /customers/13 are the same page."""
    return re.sub(r"\d+", "N", path)


def crawl(page, base: str, starts: list[str]) -> list[str]:
    """Visit ``starts`` and every same-site page their links lead to, one per kind."""
    seen: set[str] = set()
    queue = list(starts)
    visited = []
    while queue and len(visited) < MAX_PAGES:
        path = queue.pop(0)
        if pattern(path) in seen or SKIPPED.search(path):
            continue
        seen.add(pattern(path))
        response = page.goto(base + path)
        assert response is not None and response.status < 500, path
        visited.append(path)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            if href.startswith(base) and parts.path:
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return visited


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("who", ["admin", "operator"])
def test_every_page_passes_the_content_security_policy(page, serve, app, shops, language, who):
    seed_sms(app, shops)
    base = serve(app)
    violations = watch_violations(page)
    email = shops["a"]["admin"] if who == "admin" else "operator@example.com"
    page.goto(f"{base}/login")  # the login page itself, logged out
    log_in(page, base, email, language)
    a = shops["a"]
    extra = [
        f"/customers/{a['customer']}",
        f"/customers/{a['customer']}/appointments",
        f"/customers/{a['customer']}/invoices",
        f"/sms/customers/{a['customer']}",
        f"/appointments/{a['appointment']}",
        f"/invoices/{a['invoice']}",
        f"/invoices/{a['invoice']}/printable",
        f"/users/{a['staff_id']}",
        f"/companies/{a['shop']}",
        "/customers/new",
        "/appointments/new",
        "/invoices/new",
        "/users/new",
    ]
    if who == "operator":
        # The operator's own pages, then a shop's pages once a shop is picked.
        visited = crawl(page, base, ["/"])
        page.goto(base + "/")
        page.locator("form[action*='pick'] button").first.click()
        visited += crawl(page, base, ["/", *extra])
    else:
        visited = crawl(page, base, ["/", *extra])
    assert len(visited) > 15, visited
    if who == "admin":  # the conversation of the shop's customer
        assert any(p.startswith("/sms/replies/+") for p in visited), visited
    assert any(p.startswith("/reports/") and len(p) > 9 for p in visited), visited
    assert violations == [], violations


def test_the_watch_sees_a_violation(page, serve, app, shops):
    """The test above would see a refused inline script: this page has one."""
    app.add_url_rule(
        "/inline-script-probe",
        "inline_script_probe",
        lambda: "<!doctype html><p>probe</p><script>document.title = 'ran'</script>",
    )
    base = serve(app)
    violations = watch_violations(page)
    page.goto(f"{base}/inline-script-probe")
    page.wait_for_function("() => true")
    assert page.title() != "ran"
    assert any("script-src" in v for v in violations), violations
