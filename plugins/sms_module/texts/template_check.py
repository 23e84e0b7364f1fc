"""The save check of a shop template: what of the sandbox a message may use, said for people.

The renderer (``sandbox``) refuses the same things as a second line, in words for the log;
this module names each one in the administrator's language (issue 13 §6 and §10: a clear
error, never a 500 nor Python's own message).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from flask_babel import gettext as _
from jinja2 import nodes

from plugins.sms_module.texts.sandbox import ALLOWED, FILTER_ARGS, FILTERS, REFUSED, TESTS


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
            close = difflib.get_close_matches(node.name, known, n=1)
            errors.append(
                _(
                    "Unknown variable %(name)s: did you mean %(match)s?",
                    name=node.name,
                    match=close[0],
                )
                if close
                else _(
                    "Unknown variable %(name)s: the variables are %(names)s.",
                    name=node.name,
                    names=", ".join(known),
                )
            )
        elif isinstance(node, nodes.Name) and node.name not in available:
            errors.append(
                _("The variable %(name)s is not available in this message.", name=node.name)
            )
    return list(dict.fromkeys(errors))
