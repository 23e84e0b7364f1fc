"""The Jinja sandbox shop templates render in, and the check of what a template may use.

A template is plain text with ``{{ variable }}`` placeholders, the filters of ``FILTERS``
(``{{ first_name|upper }}``) and ``{% if %}`` blocks with the tests of ``TESTS``. Nothing else
is accepted (``template_check``): no attribute or item access, calls, loops, arithmetic,
%-formatting or includes, so a saved template cannot reach Python objects or build a huge
text; rendering still runs in a ``SandboxedEnvironment`` with ``StrictUndefined`` (autoescape
off: SMS is plain text), which holds only those filters and tests, as a second line.

Size and work are bounded while a template renders, not checked afterwards (issue 13 §6): a
tree nests at most ``DEPTH_LIMIT`` levels (``parse``), every filter and ``~`` refuses to build
a text longer than ``RENDER_LIMIT`` before building it, and ``render_body`` streams the output
and stops past ``RENDER_LIMIT``; ``largest_length`` tells at save whether a template *could*
grow past it with the longest values (``VARIABLE_LENGTH``). Going past raises
``TemplateTooBig``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache, wraps

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import SandboxedEnvironment, SecurityError


def N_(text: str) -> str:
    """Mark ``text`` for the catalog; the page translates it when showing it."""
    return text


FILTERS: tuple[str, ...] = ("upper", "lower", "capitalize", "title", "trim", "default", "replace")
# How many values each filter takes after the text, given in order (names are refused).
FILTER_ARGS = {"trim": 1, "default": 2, "replace": 3}
# The tests (``{% if x is defined %}``) messages may use: none formats or multiplies a text
# (``odd``, ``even`` and ``divisibleby`` compute ``value % n``: on a text, Python's
# %-formatting, a gigabyte from "%999999999d"; issue 13 §6).
TESTS: tuple[str, ...] = (
    "defined", "undefined", "none", "number", "string", "boolean", "true", "false", "lower",
    "upper", "in", "eq", "ne", "lt", "le", "gt", "ge", "==", "!=", "<", "<=", ">", ">=",
)  # fmt: skip

# The longest text a value, a filter's result or the whole message may reach while rendering
# (characters): far above the 1,600 characters of a 10-segment SMS (PRODUCT.md §8), far below
# what could hurt the worker (a few tens of kilobytes).
RENDER_LIMIT = 10_000
# The deepest a template's tree may nest (the message ``{{ first_name|default('x')|upper }}``
# is 5 levels); Jinja's parser and Python's compiler recurse once or more per level.
DEPTH_LIMIT = 40
# The longest a variable's value can be: its widest source column (Company.name, String(200)).
VARIABLE_LENGTH = 200
# A character whose case changes may become up to three ("ﬃ".upper() == "FFI").
_CASE_GROWTH = 3


class TemplateTooBig(SecurityError):
    """A template nests deeper than ``DEPTH_LIMIT`` (``reason`` "deep") or grows past
    ``RENDER_LIMIT`` characters while it renders (``reason`` "long")."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        what = f"nests deeper than {DEPTH_LIMIT} levels"
        if reason != "deep":
            what = f"grows past {RENDER_LIMIT} characters"
        super().__init__(f"the template {what}")


# The refused constructs, by the words a shop administrator reads (``template_check``).
REFUSED = {
    (nodes.Getattr, nodes.Getitem): N_("attribute and item access"),
    (nodes.Call,): N_("function and method calls"),
    (nodes.For,): N_("loops"),
    (nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport): N_("other templates"),
    (nodes.Macro, nodes.CallBlock): N_("macros"),
    (nodes.Assign, nodes.AssignBlock, nodes.With): N_("setting variables"),
    (nodes.BinExpr, nodes.UnaryExpr): N_("arithmetic"),
    (nodes.Keyword,): N_("named values in filters (write replace('a', 'b'))"),
    (nodes.Tuple, nodes.List, nodes.Dict, nodes.Pair, nodes.Slice): N_("lists"),
}
ALLOWED = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.If,
    nodes.CondExpr, nodes.And, nodes.Or, nodes.Not, nodes.Compare, nodes.Operand,
    nodes.Concat, nodes.Filter, nodes.Test,
)  # fmt: skip


def _bounded(text: str) -> str:
    if len(text) > RENDER_LIMIT:
        raise TemplateTooBig("long")
    return text


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, with ``a ~ b`` joined by the sandbox's bounded join."""

    def visit_Concat(self, node: nodes.Concat, frame) -> None:
        self.write("environment.bounded_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with the multiplying operators checked too (they can build huge texts)."""

    intercepted_binops = frozenset({"*", "**", "%"})
    code_generator_class = _CodeGenerator

    def call_binop(self, context, operator, left, right):
        raise SecurityError(f"the {operator} operator is not available in messages")

    @staticmethod
    def bounded_join(parts: Iterable[object]) -> str:
        """Join the parts of ``a ~ b``, refused past ``RENDER_LIMIT`` before joining."""
        texts = [str(part) for part in parts]
        if sum(map(len, texts)) > RENDER_LIMIT:
            raise TemplateTooBig("long")
        return "".join(texts)


def _replace(value: object, old: object, new: object, count: object = None) -> str:
    """Jinja's ``replace``, refused before building a text past ``RENDER_LIMIT``: with an
    empty ``old`` every gap between characters is replaced, so each stage multiplies."""
    text, old, new = str(value), str(old), str(new)
    limit = -1 if count is None else int(count)
    found = text.count(old) if old else len(text) + 1
    if limit >= 0:
        found = min(found, limit)
    if len(text) + found * (len(new) - len(old)) > RENDER_LIMIT:
        raise TemplateTooBig("long")
    return text.replace(old, new, limit)


def _capped(name: str):
    original = SandboxedEnvironment().filters[name]

    @wraps(original)
    def bounded(*args, **kwargs):
        result = original(*args, **kwargs)
        return _bounded(result) if isinstance(result, str) else result

    return bounded


ENVIRONMENT = _Sandbox(
    undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
)
ENVIRONMENT.globals.clear()  # no range(), cycler(), namespace(), lipsum()
# Only the filters messages may use, each bounded (no center(10**9), join, format...).
ENVIRONMENT.filters = {name: _capped(name) for name in FILTERS if name != "replace"}
ENVIRONMENT.filters["replace"] = _replace
ENVIRONMENT.tests = {name: ENVIRONMENT.tests[name] for name in TESTS}


def parse(body: str) -> nodes.Template:
    """Parse ``body`` into Jinja's tree; raise ``TemplateTooBig`` ("deep") when it nests more
    than ``DEPTH_LIMIT`` levels (or so deep that the parser itself runs out of stack), and
    ``jinja2.TemplateSyntaxError`` when it is not a template."""
    try:
        tree = ENVIRONMENT.parse(body)
    except RecursionError:
        raise TemplateTooBig("deep") from None
    stack = [(tree, 1)]
    while stack:  # iterative: the tree may be too deep for a recursive walk
        node, depth = stack.pop()
        if depth > DEPTH_LIMIT:
            raise TemplateTooBig("deep")
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    return tree


@lru_cache(maxsize=256)
def _compiled(body: str):
    tree = parse(body)
    for node in tree.find_all(nodes.Node):
        refused = not isinstance(node, ALLOWED)
        if refused or (isinstance(node, nodes.Filter) and node.name not in FILTERS):
            what = type(node).__name__ if refused else f"the {node.name} filter"
            raise SecurityError(f"{what} is not available in messages")
        if isinstance(node, nodes.Test) and node.name not in TESTS:
            raise SecurityError(f"the {node.name} test is not available in messages")
        if isinstance(node, (nodes.Filter, nodes.Test)) and (node.dyn_args or node.dyn_kwargs):
            raise SecurityError("spread values are not available in messages")
    code = ENVIRONMENT.compile(tree)
    return ENVIRONMENT.template_class.from_code(
        ENVIRONMENT, code, ENVIRONMENT.make_globals(None), None
    )


def render_body(body: str, values: dict[str, str]) -> str:
    """Fill a template with ``values`` (variable name -> text) in the sandbox; return the text.

    The template is checked again here (depth, constructs, filters: a row saved before a rule
    changed never runs unchecked) and the output is streamed: past ``RENDER_LIMIT``
    characters rendering stops with ``TemplateTooBig``, so memory stays a few times the limit.
    Raises ``SecurityError`` for what a message may not use, Jinja's errors otherwise.
    """
    chunks, size = [], 0
    for chunk in _compiled(body).generate(values):
        size += len(chunk)
        if size > RENDER_LIMIT:
            raise TemplateTooBig("long")
        chunks.append(chunk)
    return "".join(chunks).strip()


def largest_length(node: nodes.Node) -> float:
    """Return the most characters ``node`` (a checked tree of allowed constructs) could
    produce when every variable is ``VARIABLE_LENGTH`` characters long: the worst case, so
    a template whose figure passes ``RENDER_LIMIT`` is refused at save even if its sample
    renders short."""
    size = largest_length
    if isinstance(node, nodes.TemplateData):
        return len(node.data)
    if isinstance(node, nodes.Const):
        return len(str(node.value))
    if isinstance(node, nodes.Name):
        return VARIABLE_LENGTH
    if isinstance(node, nodes.If):
        branches = [node.body, node.else_, *([branch] for branch in node.elif_)]
        return max(sum(map(size, branch)) for branch in branches)
    if isinstance(node, nodes.CondExpr):
        return max(size(node.expr1), size(node.expr2) if node.expr2 else 0)
    if isinstance(node, (nodes.And, nodes.Or)):
        return max(size(node.left), size(node.right))
    if isinstance(node, (nodes.Not, nodes.Compare, nodes.Test)):
        return len("False")
    if isinstance(node, nodes.Filter):
        return _filter_length(node)
    return sum(map(size, node.iter_child_nodes()))  # Template, Output, Concat


def _filter_length(node: nodes.Filter) -> float:
    given = largest_length(node.node)
    named = {keyword.key: keyword.value for keyword in node.kwargs}
    keys = {"default": ("default_value",), "replace": ("old", "new", "count")}.get(node.name, ())
    args = [*node.args, *(named[key] for key in keys[len(node.args) :] if key in named)]
    if node.dyn_args or node.dyn_kwargs:
        return math.inf
    if node.name in ("upper", "lower", "capitalize", "title"):
        return given * _CASE_GROWTH
    if node.name == "trim":
        return given
    if node.name == "default":
        return max(given, *map(largest_length, args[:1]))
    if node.name != "replace" or len(args) < 2:
        return math.inf
    old, new = args[0], largest_length(args[1])
    shortest = len(str(old.value)) if isinstance(old, nodes.Const) else 0
    found = given // shortest if shortest else given + 1
    if len(args) > 2 and isinstance(args[2], nodes.Const) and isinstance(args[2].value, int):
        found = min(found, max(args[2].value, 0)) if args[2].value >= 0 else found
    return given + found * max(new - shortest, 0)
