"""The save check of a shop template: what of the sandbox a message may use, said for people.

The renderer (``sandbox``) refuses the same things as a second line, in words for the log;
this module names each one in the administrator's language (issue 13 §6 and §10: a clear
error, never a 500 nor Python's own message).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

from flask_babel import gettext as _
from jinja2 import TemplateSyntaxError, nodes

from plugins.sms_module.texts.sandbox import (
    ALLOWED,
    ENVIRONMENT,
    FILTER_ARGS,
    FILTERS,
    REFUSED,
    TESTS,
)


def check_tree(
    tree: nodes.Template, known: Mapping[str, str], available: tuple[str, ...]
) -> list[str]:
    """Return, for people, each construct of ``tree`` a message may not use, each unknown
    filter or test (``sandbox.FILTERS``, ``sandbox.TESTS``), each filter given too many or
    spread (``*x``) values, and each variable not ``known`` or not ``available`` here."""
    errors: list[str] = []
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, ALLOWED):
            what = next((w for kinds, w in REFUSED.items() if isinstance(node, kinds)), None)
            errors.append(
                _(
                    "Messages may not use %(what)s: use variables such as {{ first_name }}, "
                    "filters and {%% if %%} blocks.",
                    what=_(what) if what else _("this construction"),
                )
            )
        elif isinstance(node, nodes.Filter) and node.name not in FILTERS:
            errors.append(
                _(
                    "Unknown filter %(name)s: the filters are %(names)s.",
                    name=node.name,
                    names=", ".join(FILTERS),
                )
            )
        elif isinstance(node, nodes.Test) and node.name not in TESTS:
            errors.append(
                _(
                    "Unknown test %(name)s: the tests are %(names)s.",
                    name=node.name,
                    names=", ".join(name for name in TESTS if name.isalpha()),
                )
            )
        elif isinstance(node, (nodes.Filter, nodes.Test)) and (node.dyn_args or node.dyn_kwargs):
            errors.append(_("Give the values of %(name)s one by one, in order.", name=node.name))
        elif isinstance(node, nodes.Filter) and len(node.args) > FILTER_ARGS.get(node.name, 0):
            errors.append(
                _(
                    "The %(name)s filter takes at most %(count)s value(s).",
                    name=node.name,
                    count=FILTER_ARGS.get(node.name, 0),
                )
            )
        elif isinstance(node, nodes.Name) and node.name not in known:
            errors.append(unknown_variable(node.name, known))
        elif isinstance(node, nodes.Name) and node.name not in available:
            errors.append(
                _("The variable %(name)s is not available in this message.", name=node.name)
            )
    return list(dict.fromkeys(errors))


def unknown_variable(name: str, known: Mapping[str, str]) -> str:
    """Say that ``name`` is no variable, with the closest of ``known`` when one is close
    ("Unknown variable: {{ frist_name }}. Did you mean {{ first_name }}? ...")."""
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return _(
            "Unknown variable: %(name)s. Did you mean %(match)s? Pick one from the list of "
            "variables.",
            name=_printed(name),
            match=_printed(close[0]),
        )
    return _(
        "Unknown variable: %(name)s. Pick one from the list of variables.",
        name=_printed(name),
    )


# --- Syntax errors, said for people (issue 12 point 9) ------------------------------------

_OPENER = re.compile(r"\{\{|\{%|\{#")
_CLOSER = {"{{": "}}", "{%": "%}", "{#": "#}"}
_IF_FAMILY = ("if", "elif", "else", "endif")
_SHOWN = 40  # characters of a tag quoted in a sentence


def syntax_error(body: str, exc: TemplateSyntaxError | None = None) -> str:
    """Return, for people, why ``body`` is not a template Jinja can read: the first
    delimiter left open ("A variable is not closed: add }} after first_name."), the first
    ``{{ }}`` or ``{% %}`` that cannot be read alone, or the ``{% if %}`` block left open or
    closed twice, with its line when the text has several. Never Jinja's own words
    ("unexpected '}'"), which name its parser's tokens (issue 12 point 9). ``exc`` gives the
    line of the last resort sentence."""
    tags, unclosed = _tags(body)
    error = _unclosed_error(*unclosed) if unclosed else None
    error = error or _tag_error(tags) or _block_error(tags)
    line = error[1] if error else getattr(exc, "lineno", None) or 1
    if error is None:
        return _(
            "Line %(line)s cannot be read: check that each {{ has its }}, and each %(if_)s "
            "its %(endif)s.",
            line=line,
            if_="{% if %}",
            endif="{% endif %}",
        )
    if "\n" not in body.strip():
        return error[0]
    return _("Line %(line)s: %(error)s", line=line, error=error[0])


def _tags(body: str) -> tuple[list[tuple[str, str, int]], tuple[str, str, int] | None]:
    """Return the template's tags as (opener, text inside, line) and the first one left open
    (its opener, the text after it up to a brace or the line's end, its line), if any."""
    tags, position = [], 0
    while found := _OPENER.search(body, position):
        opener, start = found.group(), found.end()
        line = body.count("\n", 0, found.start()) + 1
        end = body.find(_CLOSER[opener], start)
        following = _OPENER.search(body, start)
        if end < 0 or (opener != "{#" and following and following.start() < end):
            after = re.split(r"[{}%#\n]", body[start:], maxsplit=1)[0]
            return tags, (opener, after.strip(" -+")[:_SHOWN], line)
        tags.append((opener, body[start:end].strip(" \t\n-+"), line))
        position = end + 2
    return tags, None


def _unclosed_error(opener: str, after: str, line: int) -> tuple[str, int]:
    if opener == "{#":
        return _("A comment is not closed: add #} where it ends."), line
    if opener == "{%" and after:
        return _(
            "A block is not closed: add %(closer)s after %(text)s.", closer="%}", text=after
        ), line
    if opener == "{%":
        return _(
            "A %(opener)s is not closed: write the block, then %(closer)s.",
            opener="{%",
            closer="%}",
        ), line
    if after:
        return _("A variable is not closed: add }} after %(name)s.", name=after), line
    return _(
        "A {{ is not closed: write a variable's name, then }}, e.g. %(example)s.",
        example="{{ first_name }}",
    ), line


def _tag_error(tags: list[tuple[str, str, int]]) -> tuple[str, int] | None:
    """The first ``{{ }}`` that cannot be read alone, and the first ``{% %}`` that is no
    ``if`` block or whose condition cannot be read."""
    for opener, inside, line in tags:
        word, rest = [*inside.split(None, 1), "", ""][:2]
        if opener == "{{" and not inside:
            return _(
                "A {{ }} is empty: write a variable's name between the braces, e.g. %(example)s.",
                example="{{ first_name }}",
            ), line
        if opener == "{{" and not _reads(_printed(inside)):
            return _(
                "%(tag)s cannot be read: between {{ and }} write one variable of the list "
                "(its name has no spaces), e.g. %(example)s.",
                tag=_shown(_printed(inside)),
                example="{{ first_name }}",
            ), line
        if opener != "{%" or word not in _IF_FAMILY[:2]:
            continue
        if not rest.strip() or not _reads(_block("if " + rest) + _block("endif")):
            return _(
                "The condition of %(tag)s cannot be read: name a variable, e.g. %(example)s.",
                tag=_shown(_block(inside)),
                example="{% if vehicle %}…{% endif %}",
            ), line
    return None


def _block_error(tags: list[tuple[str, str, int]]) -> tuple[str, int] | None:
    """The first ``{% %}`` that is no ``if``-block tag, or that the blocks before it do not
    expect; else the first ``{% if %}`` left open."""
    opened: list[tuple[str, int, bool]] = []  # (tag, line, its else seen)
    for opener, inside, line in tags:
        if opener != "{%":
            continue
        word, tag = [*inside.split(None, 1), ""][0], _shown(_block(inside))
        if word not in _IF_FAMILY:
            return _(
                "%(tag)s is not a block messages may use: they use %(blocks)s.",
                tag=tag,
                blocks="{% if %}, {% elif %}, {% else %}, {% endif %}",
            ), line
        if word == "if":
            opened.append((tag, line, False))
        elif not opened:
            return _(
                "%(tag)s has no %(if_)s before it: remove it, or add the %(if_)s it belongs to.",
                tag=tag,
                if_="{% if %}",
            ), line
        elif word == "endif":
            opened.pop()
        elif opened[-1][2]:
            return _(
                "%(tag)s comes after the %(else_)s of its block: %(else_)s is the block's "
                "last part.",
                tag=tag,
                else_="{% else %}",
            ), line
        elif word == "else":
            opened[-1] = (*opened[-1][:2], True)
    if opened:
        tag, line, _seen = opened[-1]
        return _(
            "The block %(tag)s is not closed: add %(endif)s where its text ends.",
            tag=tag,
            endif="{% endif %}",
        ), line
    return None


def _reads(source: str) -> bool:
    try:
        ENVIRONMENT.parse(source)
    except (TemplateSyntaxError, RecursionError):
        return False
    return True


def _shown(tag: str) -> str:
    return tag if len(tag) <= _SHOWN else tag[: _SHOWN - 1] + "…"


def _printed(inside: str) -> str:
    return "{{ " + inside + " }}"


def _block(inside: str) -> str:
    return "{% " + inside + " %}"
