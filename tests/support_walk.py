"""The walk of every page in Chromium (tests/test_everyday_screens_browser.py; issue 12's
"done when"): following a page's links one page per kind, and what it looks for on each
page: an English string of the catalog on a French page, an ISO timestamp, a raw code, a
page wider than the window, a word broken inside a short value's cell."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "host" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"

# Not pages: downloads, JSON, switches that redirect, the way out.
SKIPPED = re.compile(r"(\.csv|\.json|/export|/metrics|/language/|/logout|/static/|/api/)")
MAX_PAGES = 90
WIDTHS = (1024, 390)

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


# The table cells whose words do not hold whole (issue 12 point 4): in a heading or a cell
# of short values (not marked as people's text: .wrap, .long-text, .report-text), a word
# (between spaces and hyphens) whose letters lie on two lines, or content wider than the
# cell; in people's text, a common word (up to 10 letters between spaces: "Tremblay",
# "désabonner", not a URL) on two lines. Each word's lines are read from a Range over its
# letters; text not drawn (a closed <details>) is skipped.
BROKEN_WORDS = """() => {
  const free = '.wrap, .long-text, .report-text, pre, code, textarea';
  const found = [];
  for (const cell of document.querySelectorAll('th, td')) {
    if (!cell.getClientRects().length) continue;
    const name = cell.tagName.toLowerCase() + (cell.closest('table').id
      ? ' in #' + cell.closest('table').id : '');
    if (!cell.matches(free) && cell.scrollWidth > cell.clientWidth + 1) {
      found.push(name + ' wider than its column: ' + cell.innerText.trim().slice(0, 40));
      continue;
    }
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.parentElement.checkVisibility()) continue;
      const people = cell.matches(free) || node.parentElement.closest(free);
      const longest = people ? 10 : Infinity;
      const words = people ? /\\S+/g : /[^\\s\\-\\u2010\\u2011/]+/g;
      let match;
      while ((match = words.exec(node.data)) !== null) {
        if (match[0].length > longest) continue;
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const rects = Array.from(range.getClientRects()).filter(r => r.width > 0);
        const top = Math.min(...rects.map(r => r.top));
        if (rects.some(r => r.top - top > r.height / 2)) {
          found.push(name + ' breaks ' + JSON.stringify(match[0]));
        }
      }
    }
  }
  return found.slice(0, 5);
}"""


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
        found += [f"{path}: at {width}px, {cell}" for cell in page.evaluate(BROKEN_WORDS)]
    page.set_viewport_size({"width": WIDTHS[0], "height": 800})
    return found
