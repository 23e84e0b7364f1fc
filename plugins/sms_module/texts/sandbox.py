"""The Jinja sandbox shop templates render in, and the check of what a template may use.

A template is plain text with ``{{ variable }}`` placeholders, the filters of ``FILTERS``
(``{{ first_name|upper }}``) and ``{% if %}`` blocks. Nothing else is accepted: no attribute
or item access, calls, loops, arithmetic or includes, so a saved template cannot reach
Python objects or build a huge text; rendering still runs in a ``SandboxedEnvironment`` with
``StrictUndefined`` (autoescape off: SMS is plain text) as a second line.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from flask_babel import gettext as _
from jinja2 import StrictUndefined, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError


def N_(text: str) -> str:
    """Mark ``text`` for the catalog; the page translates it when showing it."""
    return text


FILTERS: tuple[str, ...] = ("upper", "lower", "capitalize", "title", "trim", "default", "replace")


# The refused constructs, by the words a shop administrator reads.
_REFUSED = {
    (nodes.Getattr, nodes.Getitem): N_("attribute and item access"),
    (nodes.Call,): N_("function and method calls"),
    (nodes.For,): N_("loops"),
    (nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport): N_("other templates"),
    (nodes.Macro, nodes.CallBlock): N_("macros"),
    (nodes.Assign, nodes.AssignBlock, nodes.With): N_("setting variables"),
    (nodes.BinExpr, nodes.UnaryExpr): N_("arithmetic"),
}
_ALLOWED = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.If,
    nodes.CondExpr, nodes.And, nodes.Or, nodes.Not, nodes.Compare, nodes.Operand,
    nodes.Concat, nodes.Filter, nodes.Test,
)  # fmt: skip


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with the multiplying operators checked too (they can build huge texts)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context, operator, left, right):
        raise SecurityError(f"the {operator} operator is not available in messages")


ENVIRONMENT = _Sandbox(
    undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
)
ENVIRONMENT.globals.clear()  # no range(), cycler(), namespace(), lipsum()


def render_body(body: str, values: dict[str, str]) -> str:
    """Fill a validated template with ``values`` in the sandbox."""
    return ENVIRONMENT.from_string(body).render(values).strip()


def check_tree(
    tree: nodes.Template, known: Mapping[str, str], available: tuple[str, ...]
) -> list[str]:
    """Return, for people, each construct of ``tree`` a message may not use, each unknown
    filter, and each variable not ``known`` or not ``available`` in this message."""
    errors: list[str] = []
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED):
            what = next((w for kinds, w in _REFUSED.items() if isinstance(node, kinds)), None)
            errors.append(
                _(
                    "Messages may not use %(what)s: use variables such as {{ first_name }}, "
                    "filters and {%% if %%} blocks.",
                    what=_(what) if what else type(node).__name__,
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
