"""What templates may call: Jinja's filters (an allowlist, bounded), our globals and meters."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from datetime import time as clock_time
from decimal import Decimal
from typing import Any

from jinja2 import filters as jinja_filters
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from jinja2.runtime import Undefined
from markupsafe import Markup, soft_str

from templates_store.locales import FORMATTERS
from templates_store.sandbox import CONCAT_FILTER, LOOP_FILTER, Refusal, current

_JINJA_ALLOWED = (
    "abs capitalize count d default dictsort e escape filesizeformat first float forceescape"
    " groupby int items last length list lower map max min reject rejectattr reverse round"
    " select selectattr sort string striptags sum title trim truncate unique upper urlencode"
    " urlize wordcount xmlattr"
).split()
_MAX_JSON_INDENT = 8
_SCALARS = (str, int, float, Decimal, date, clock_time, type(None), Undefined)
_NOT_TEXT = "only text, numbers, dates, lists and mappings can be turned into text"
# filters that may turn a whole list or mapping into text, so it is checked first
_TEXT_FILTERS = frozenset(
    "capitalize e escape forceescape lower replace string striptags title tojson trim truncate"
    " upper urlencode urlize wordcount xmlattr".split()
)


def check_text(value: Any, limit: int) -> None:
    """Refuse a value whose text form would show code or exceed `limit` characters."""
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, _SCALARS):
            total += 8  # an Undefined fails by itself, naming the undefined name
        elif isinstance(item, Mapping):
            total += 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            total += 2 * len(item)
            stack.extend(item)
        else:
            raise Refusal(_NOT_TEXT)
        if total > limit:
            raise Refusal(f"a value would exceed the limit of {limit} characters as text")


def bounded_range(*args: int) -> range:
    """`range` that charges its length to the render's iteration budget."""
    numbers = range(*args)
    try:
        count = len(numbers)
    except OverflowError:
        count = sys.maxsize
    current().tick(count)
    return numbers


def include_block(key: str) -> str:
    """`block("key")`: the rendered content block, in the current part's mode."""
    return current().include(key)


def loop_items(iterable: Iterable[Any]) -> Iterator[Any]:
    """Internal filter around every `for` loop's iterable: each item costs one iteration."""
    state = current()
    for item in iterable:
        state.tick()
        yield item


@pass_eval_context
def join_pieces(eval_ctx: EvalContext, pieces: list[Any]) -> str:
    """Internal filter for the `~` operator: joins within the text budget."""
    state = current()
    for piece in pieces:
        if type(piece) is not str:
            check_text(piece, state.max_chars)
    texts = ["" if piece is None else soft_str(piece) for piece in pieces]
    state.spend(sum(map(len, texts)))
    if eval_ctx.autoescape and any(hasattr(text, "__html__") for text in texts):
        return Markup("").join(texts)
    return "".join(texts)


def bounded_concat(parts: Iterable[str]) -> str:
    """Join a buffer of output (macros, `set` and `filter` blocks) within the text budget."""
    pieces = parts if isinstance(parts, list) else list(parts)
    current().spend(sum(map(len, pieces)))
    return "".join(pieces)


def printable(value: Any) -> Any:
    """Finalize each `{{ }}` value: None prints as nothing; code objects do not print."""
    if value is None:
        return ""
    if not isinstance(value, _SCALARS):
        check_text(value, current().max_chars)
    return value


def guarded(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter: check the deadline and collection sizes, charge the text it returns."""
    checks_text = name in _TEXT_FILTERS
    skip = 1 if getattr(function, "jinja_pass_arg", None) else 0  # the context Jinja passes

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        state = current()
        state.check_time()
        for argument in (*args[skip:], *kwargs.values()) if checks_text else ():
            if type(argument) is not str:
                check_text(argument, state.max_chars)
        result = function(*args, **kwargs)
        if isinstance(result, str):
            state.spend(len(result))
        return result

    return run


@pass_eval_context
def bounded_join(
    eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: str | None = None
) -> str:
    """`join`, refused when the joined text would be too large."""
    items = list(value)
    if attribute is not None:
        items = list(map(jinja_filters.make_attrgetter(eval_ctx.environment, attribute), items))
    state = current()
    check_text([d, *items], state.max_chars)
    state.spend(len(str(d)) * max(len(items) - 1, 0) + sum(len(str(item)) for item in items))
    return jinja_filters.sync_do_join(eval_ctx, items, d)


@pass_eval_context
def bounded_replace(
    eval_ctx: EvalContext, value: str, old: str, new: str, count: int | None = None
) -> str:
    """`replace`, refused when the result would be too large."""
    text, old, new = str(value), str(old), str(new)
    hits = len(text) + 1 if old == "" else text.count(old)
    if count is not None and count >= 0:
        hits = min(hits, count)
    current().spend(len(text) + hits * max(len(new) - len(old), 0))
    return jinja_filters.do_replace(eval_ctx, value, old, new, count)


def bounded_batch(value: Iterable[Any], linecount: int, fill_with: Any = None) -> Iterator[Any]:
    """`batch`, its padding charged to the iteration budget."""
    current().tick(max(int(linecount), 0))
    return jinja_filters.do_batch(value, linecount, fill_with)


def bounded_slice(value: Any, slices: int, fill_with: Any = None) -> Iterator[Any]:
    """`slice`, its slice count charged to the iteration budget."""
    current().tick(max(int(slices), 0))
    return jinja_filters.sync_do_slice(value, slices, fill_with)


@pass_eval_context
def bounded_tojson(eval_ctx: EvalContext, value: Any, indent: int | None = None) -> Markup:
    """`tojson` with a small indent only."""
    if indent is not None and not 0 <= indent <= _MAX_JSON_INDENT:
        raise Refusal(f"tojson's indent must be between 0 and {_MAX_JSON_INDENT}")
    return jinja_filters.do_tojson(eval_ctx, value, indent)


def _allowed_jinja() -> dict[str, Callable[..., Any]]:
    chosen = {name: jinja_filters.FILTERS[name] for name in _JINJA_ALLOWED}
    chosen.update(
        join=bounded_join,
        replace=bounded_replace,
        batch=bounded_batch,
        slice=bounded_slice,
        tojson=bounded_tojson,
    )
    return chosen


_FOR_TEMPLATES = {**_allowed_jinja(), **FORMATTERS}
FILTERS: dict[str, Callable[..., Any]] = {
    **{name: guarded(name, function) for name, function in _FOR_TEMPLATES.items()},
    LOOP_FILTER: loop_items,
    CONCAT_FILTER: join_pieces,
}
GLOBALS: dict[str, Callable[..., Any]] = {"range": bounded_range, "block": include_block}
