"""The sandboxed Jinja environment: refuses unsafe access and bounds the cost of every render."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from datetime import time as clock_time
from typing import Any, cast

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.runtime import Context, LoopContext, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

#: names every template may use without declaring them
RESERVED_NAMES = frozenset({"brand", "locale", "block", "range", "unsubscribe_url", "recipient"})
#: names Jinja gives a meaning of its own inside templates
JINJA_NAMES = frozenset({"loop", "self", "caller", "varargs", "kwargs", "super", "true", "false"})
MAX_INT_BITS = 10_000
LOOP_FILTER = "_hcs_loop"  # internal filter around every loop's iterable
CONCAT_FILTER = "_hcs_concat"  # internal filter that replaces the `~` operator
_BLOCK_CALL = 'block() takes one quoted key, e.g. block("footer")'

_STR_METHODS = frozenset(
    {"lower", "upper", "title", "capitalize", "strip", "lstrip", "rstrip"}
    | {"startswith", "endswith", "split"}
)
_MAPPING_METHODS = frozenset({"items", "keys", "values", "get"})
_DATE_FIELDS = frozenset(
    {"year", "month", "day", "hour", "minute", "second", "weekday", "isoweekday", "isoformat"}
)
_LOOP_FIELDS = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length"}
    | {"depth", "depth0", "previtem", "nextitem", "cycle", "changed"}
)


class Refusal(Exception):
    """Raised inside a render when the sandbox refuses an operation (becomes SandboxViolation)."""


class Overtime(Refusal):
    """Raised inside a render once its deadline has passed (becomes RenderTimeout)."""


class Fault(Exception):
    """Raised inside a render for a template mistake such as an unknown block (RenderError)."""


@dataclass
class RenderState:
    """The budgets of one render: wall-clock deadline, loop iterations, characters built."""

    deadline: float
    iterations: int
    chars: int
    max_chars: int
    locale: str
    include: Callable[[str], str]
    in_block: bool = False

    def check_time(self) -> None:
        """Refuse to go on once the render's deadline has passed."""
        if time.monotonic() > self.deadline:
            raise Overtime("rendering took longer than the time limit")

    def tick(self, count: int = 1) -> None:
        """Charge loop iterations (or calls) to the budget."""
        self.iterations -= count
        if self.iterations < 0:
            raise Refusal("too many loop iterations or calls (the template does too much work)")
        self.check_time()

    def spend(self, size: int) -> None:
        """Charge characters of text built during the render to the budget."""
        if size > self.max_chars:
            raise Refusal(f"a text would exceed the limit of {self.max_chars} characters")
        self.chars -= size
        if self.chars < 0:
            raise Refusal("the template builds too much text")
        self.check_time()


_STATE: ContextVar[RenderState | None] = ContextVar("hcs_render_state", default=None)


def current() -> RenderState:
    """The state of the render in progress."""
    state = _STATE.get()
    if state is None:
        raise RuntimeError("templates run only through templates_store.rendering")
    return state


@contextmanager
def activated(state: RenderState) -> Iterator[RenderState]:
    """Make `state` the current render's state for the duration of the block."""
    token = _STATE.set(state)
    try:
        yield state
    finally:
        _STATE.reset(token)


def _is_allowed(obj: Any, attribute: str) -> bool:
    if attribute.startswith("_"):
        return False
    if isinstance(obj, str):
        return attribute in _STR_METHODS
    if isinstance(obj, Mapping):
        return attribute in _MAPPING_METHODS
    if isinstance(obj, date | clock_time):
        return attribute in _DATE_FIELDS
    if isinstance(obj, LoopContext):
        return attribute in _LOOP_FIELDS
    return isinstance(obj, tuple) and attribute in getattr(type(obj), "_fields", ())


def _missing(environment: Sandbox, obj: Any, name: Any) -> Undefined:
    if isinstance(name, int):
        return environment.undefined(f"this value has no item {name}", name=str(name))
    if not isinstance(name, str):
        return environment.undefined("this value has no such item")
    kind = "key" if isinstance(obj, Mapping) else "attribute"
    return environment.undefined(f"this value has no {kind} {name[:40]!r}", name=name)


def _check_repeat(sequence: Any, count: Any, state: RenderState) -> None:
    if not isinstance(count, int) or isinstance(count, bool):
        return
    if isinstance(sequence, str):
        state.spend(len(sequence) * max(count, 0))
    elif isinstance(sequence, list | tuple):
        state.tick(len(sequence) * max(count, 0))


def _check_binop(operator: str, left: Any, right: Any, state: RenderState) -> None:
    if operator == "%" and isinstance(left, str):
        raise Refusal("'%' formatting of text is not allowed: use filters")
    if operator == "*":
        _check_repeat(left, right, state)
        _check_repeat(right, left, state)
        if _both_ints(left, right) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise Refusal("a number would be too large")
    elif operator == "**" and _both_ints(left, right) and right > 0 and abs(left) > 1:
        if left.bit_length() * right > MAX_INT_BITS:
            raise Refusal("a number would be too large")
    elif operator == "+" and isinstance(left, str) and isinstance(right, str):
        state.spend(len(left) + len(right))
    elif operator == "+" and isinstance(left, list | tuple) and isinstance(right, list | tuple):
        state.tick(len(left) + len(right))


def _both_ints(left: Any, right: Any) -> bool:
    return isinstance(left, int) and isinstance(right, int)


class _Hardener(NodeTransformer):
    """Rewrites a parsed template so that loops and `~` are metered, and refuses escape hatches."""

    refused: dict[type[nodes.Node], str] = {
        nodes.Extends: "templates cannot extend other templates",
        nodes.Include: 'templates cannot include files: use block("key")',
        nodes.Import: "templates cannot import files",
        nodes.FromImport: "templates cannot import files",
        nodes.EvalContextModifier: "autoescaping cannot be changed in a template",
        nodes.ScopedEvalContextModifier: "autoescaping cannot be changed in a template",
    }

    def __init__(self, environment: Sandbox) -> None:
        self.environment = environment

    def generic_visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if type(node) in self.refused:
            raise TemplateSyntaxError(self.refused[type(node)], node.lineno)
        return super().generic_visit(node, *args, **kwargs)

    def _filter(self, node: nodes.Expr, name: str, lineno: int) -> nodes.Filter:
        wrapped = nodes.Filter(node, name, [], [], None, None, lineno=lineno)
        wrapped.set_environment(self.environment)
        return wrapped

    def visit_For(self, node: nodes.For) -> nodes.Node:
        if node.recursive:
            raise TemplateSyntaxError("recursive loops are not allowed", node.lineno)
        self.generic_visit(node)
        node.iter = self._filter(cast(nodes.Expr, node.iter), LOOP_FILTER, node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        pieces = nodes.List(node.nodes, lineno=node.lineno)
        pieces.set_environment(self.environment)
        return self._filter(pieces, CONCAT_FILTER, node.lineno)

    def visit_Name(self, node: nodes.Name) -> nodes.Node:
        if node.name in ("self", "block") and node.ctx != "load":
            raise TemplateSyntaxError(f"{node.name!r} is a reserved name", node.lineno)
        if node.name == "self":
            raise TemplateSyntaxError("'self' is not available in templates", node.lineno)
        if node.name == "block":
            raise TemplateSyntaxError(_BLOCK_CALL, node.lineno)
        return node

    def visit_Macro(self, node: nodes.Macro) -> nodes.Node:
        if node.name in ("self", "block"):
            raise TemplateSyntaxError(f"{node.name!r} is a reserved name", node.lineno)
        visited: nodes.Node = self.generic_visit(node)
        return visited

    def visit_Call(self, node: nodes.Call) -> nodes.Node:
        callee = node.node
        if not (isinstance(callee, nodes.Name) and callee.name == "block"):
            visited: nodes.Node = self.generic_visit(node)
            return visited
        key = node.args[0] if len(node.args) == 1 else None
        plain = not (node.kwargs or node.dyn_args or node.dyn_kwargs)
        if not (plain and isinstance(key, nodes.Const) and isinstance(key.value, str)):
            raise TemplateSyntaxError(_BLOCK_CALL, node.lineno)
        return node


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with allowlisted attributes, metered cost and our globals."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(
        self,
        *,
        html: bool,
        filters: Mapping[str, Callable[..., Any]],
        names: Mapping[str, Any],
        finalize: Callable[[Any], Any],
        concat: Callable[[Iterable[str]], str],
    ) -> None:
        super().__init__(autoescape=html, undefined=StrictUndefined, finalize=finalize)
        self.globals.clear()  # no lipsum, cycler, joiner, namespace or dict
        self.globals.update(names)
        self.filters = dict(filters)
        # compiled code joins every buffered output (macros, `set`, `filter`) with this
        self.concat = concat  # type: ignore[method-assign]

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one plain dict, not Jinja's ChainMap over the environment's.

        Every render copies them into its context and lists their names, and a ChainMap is
        walked in Python each time. Ours are set once, in `__init__`, and never change.
        """
        return {**self.globals, **(d or {})}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        hardened: nodes.Template = _Hardener(self).visit(tree)
        return hardened

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Only the allowlisted attributes of data values are visible to templates."""
        return _is_allowed(obj, attr)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`obj.attribute`: mapping keys first, then allowlisted attributes only."""
        if type(obj) is dict and attribute in obj:
            return obj[attribute]  # the common case: a key of the data, O(1)
        current().check_time()
        if isinstance(obj, Undefined):
            return obj  # fails, naming the undefined name, when it is used
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        if _is_allowed(obj, attribute):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        elif attribute.startswith("_"):
            raise Refusal("names starting with '_' are not allowed")
        elif hasattr(obj, attribute):
            raise Refusal(f"access to {attribute!r} is not allowed")
        return _missing(self, obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """`obj[argument]`: items first; text keys fall back to the allowlisted attributes."""
        try:
            return obj[argument]
        except (TypeError, LookupError):
            pass
        if isinstance(argument, str):
            return self.getattr(obj, argument)
        return _missing(self, obj, argument)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Call from template code; each call costs one iteration."""
        current().tick()
        if not self.is_safe_callable(obj):
            raise Refusal("this cannot be called from a template")
        return context.call(obj, *args, **kwargs)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """`*`, `**`, `+` and `%` with their result's size checked before it is computed."""
        state = current()
        _check_binop(operator, left, right, state)
        return self.binop_table[operator](left, right)
