"""The render engine: compiled-template cache, per-render limits and author-readable errors."""

from __future__ import annotations

import decimal
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

from jinja2 import Template
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
from markupsafe import Markup

from templates_store.errors import (
    RenderError,
    RenderLimit,
    RenderTimeout,
    SandboxViolation,
    TemplateProblem,
    TemplateSyntaxProblem,
)
from templates_store.filters import FILTERS, GLOBALS, bounded_concat, printable
from templates_store.locales import normalize_locale
from templates_store.sandbox import (
    Fault,
    Overtime,
    Refusal,
    RenderState,
    Sandbox,
    activated,
    current,
)

_TEMPLATE_FILE = "<template>"
_CACHE_SIZE = 2048
_CACHE_BYTES = 16 * 1024 * 1024  # total template source held compiled, in bytes of memory
_WORK_FACTOR = 10  # text built along the way (macros, `~`, filters) may be 10x the output cap
_LEAKY = re.compile(r"<|0x|__|\bfunction\b|\bmodule\b|\bclass\b|\bmethod\b|built-in|object at")


@dataclass(frozen=True)
class Limits:
    """What one render may cost: output characters, wall-clock seconds and units of work.

    A unit of work is one loop item, one call, or one number that `range()` produces; the text
    built along the way (macros, `~`, filters) may total ten times the output limit.
    """

    max_output_chars: int = 500_000
    max_seconds: float = 2.0
    max_iterations: int = 100_000


@dataclass(frozen=True)
class BlockSource:
    """One content block's sources for one locale."""

    key: str
    html: str | None
    text: str | None


_ENVIRONMENTS = {
    html: Sandbox(
        html=html, filters=FILTERS, names=GLOBALS, finalize=printable, concat=bounded_concat
    )
    for html in (True, False)
}
_cache: OrderedDict[tuple[str, bool], tuple[Template, int]] = OrderedDict()
_cache_lock = threading.Lock()
_cache_bytes = 0


def environment(*, html: bool) -> Sandbox:
    """The shared sandbox for HTML parts (autoescaped) or text parts."""
    return _ENVIRONMENTS[html]


def compiled(source: str, *, html: bool) -> Template:
    """The compiled template for `source`, cached by the source itself; raises TemplateSyntaxError.

    Keyed by the text, not a digest of it: a dict compares equal sources in one pass, and no
    part's source is encoded and hashed again on every render. The bound counts the memory the
    held sources take.
    """
    key = (source, html)
    with _cache_lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
            return entry[0]
    source.encode()  # text that is not Unicode (a lone surrogate) is refused, as it always was
    template = _ENVIRONMENTS[html].from_string(source)
    _remember(key, template, sys.getsizeof(source))
    return template


def _remember(key: tuple[str, bool], template: Template, size: int) -> None:
    """Cache a compiled template, evicting the oldest past either the entry or the byte bound."""
    global _cache_bytes
    with _cache_lock:
        if key in _cache or size > _CACHE_BYTES:
            return
        _cache[key] = (template, size)
        _cache_bytes += size
        while len(_cache) > _CACHE_SIZE or _cache_bytes > _CACHE_BYTES:
            _cache_bytes -= _cache.popitem(last=False)[1][1]


def cache_usage() -> tuple[int, int]:
    """How many compiled templates are cached, and the bytes their sources take in memory."""
    with _cache_lock:
        return len(_cache), _cache_bytes


def render(
    source: str,
    *,
    part: str,
    html: bool,
    data: Mapping[str, Any],
    locale: str,
    brand: Mapping[str, Any] | None = None,
    blocks: Mapping[str, BlockSource] | None = None,
    limits: Limits = Limits(),
) -> str:
    """Render one part with `data` as top-level names, `brand`, `locale` and `block("key")`."""
    names = {k: v for k, v in data.items() if k not in ("block", "range")}
    names.update(brand=brand or {}, locale=normalize_locale(locale))
    state = _start(limits, names["locale"])
    state.include = lambda key: _include(key, blocks or {}, html, names)
    return _run(source, part=part, html=html, names=names, state=state)


def render_css(
    source: str,
    *,
    part: str,
    brand: Mapping[str, Any] | None,
    locale: str,
    limits: Limits = Limits(),
) -> str:
    """Render a letter's CSS in text mode; it sees only `brand` and `locale`."""
    names: dict[str, Any] = {"brand": brand or {}, "locale": normalize_locale(locale)}
    state = _start(limits, names["locale"])  # no blocks: block() finds none
    return _run(source, part=part, html=False, names=names, state=state)


def _start(limits: Limits, locale: str) -> RenderState:
    return RenderState(
        deadline=time.monotonic() + limits.max_seconds,
        iterations=limits.max_iterations,
        chars=limits.max_output_chars * _WORK_FACTOR,
        max_chars=limits.max_output_chars,
        locale=locale,
        include=_no_blocks,
    )


def _no_blocks(key: str) -> str:
    raise Fault(f"unknown content block {key!r}")


def compile_part(source: str, *, part: str, html: bool) -> Template:
    """The compiled (cached) template of one part; a source that cannot compile is refused."""
    try:
        return compiled(source, html=html)
    except TemplateSyntaxError as exc:
        raise problem(exc, part) from None
    except (RecursionError, MemoryError, SyntaxError):  # Python's own limits on the compiled code
        raise TemplateSyntaxProblem(part, "the template is too deeply nested") from None


def _run(source: str, *, part: str, html: bool, names: dict[str, Any], state: RenderState) -> str:
    template = compile_part(source, part=part, html=html)
    with activated(state):
        try:
            output = _generate(template, names, state.max_chars)
        except Exception as exc:  # every failure becomes the author's TemplateProblem
            raise problem(exc, part) from None
    return Markup(output) if html else output


def _generate(template: Template, names: dict[str, Any], max_chars: int) -> str:
    pieces: list[str] = []
    append, size = pieces.append, 0
    stream = cast(Generator[str, None, None], template.generate(names))
    try:
        for piece in stream:
            size += len(piece)
            if size > max_chars:
                raise Refusal(f"the output is larger than the limit of {max_chars} characters")
            append(piece)
    finally:
        stream.close()
    return "".join(pieces)


def _include(key: str, blocks: Mapping[str, BlockSource], html: bool, names: dict[str, Any]) -> str:
    state = current()
    if state.in_block:
        raise Fault("a content block cannot include another block")
    if key not in blocks:
        raise Fault(f"unknown content block {key!r}")
    source = blocks[key].html if html else blocks[key].text
    if source is None:
        raise Fault(f"content block {key!r} has no {'HTML' if html else 'text'} version")
    state.in_block = True
    try:
        output = _run(source, part=f"block {key!r}", html=html, names=names, state=state)
    finally:
        state.in_block = False
    state.spend(len(output))
    return output


def problem(exc: BaseException, part: str) -> TemplateProblem:
    """The author-facing error for an exception raised while compiling or rendering `part`."""
    if isinstance(exc, TemplateSyntaxError):
        # the parser speaks of template tokens only: its message is kept as it is
        return TemplateSyntaxProblem(part, _capped(exc.message or "invalid syntax"), exc.lineno)
    line = template_line(exc.__traceback__)
    if isinstance(exc, TemplateProblem):
        return type(exc)(part, f"in {exc}", line)
    if isinstance(exc, Overtime):
        return RenderTimeout(part, str(exc), line)
    if isinstance(exc, Refusal):
        return SandboxViolation(part, _capped(str(exc)), line)
    if isinstance(exc, SecurityError):
        return SandboxViolation(part, _scrub(str(exc)), line)
    if isinstance(exc, RecursionError):
        return SandboxViolation(part, "too deeply nested (a macro that calls itself?)", line)
    if isinstance(exc, MemoryError):
        return RenderLimit(part, "the template needs more memory than it is allowed", line)
    return RenderError(part, _cause(exc), line)


def template_line(tb: TracebackType | None) -> int | None:
    """The template line of the innermost template frame in a Jinja-rewritten traceback."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _cause(exc: BaseException) -> str:
    if isinstance(exc, Fault):
        return _capped(str(exc))
    if isinstance(exc, UndefinedError):
        return _scrub(str(exc), "a value used here is undefined")
    if isinstance(exc, ZeroDivisionError | decimal.DivisionByZero):
        return "division by zero"
    if isinstance(exc, OverflowError | decimal.Overflow):
        return "a number would be too large"
    if isinstance(exc, ArithmeticError):
        return "this calculation has no valid result"
    if isinstance(exc, AssertionError):
        return "a filter was given arguments it cannot use"
    if isinstance(exc, TypeError):
        return _scrub(str(exc), "a value of the wrong type was used here")
    if isinstance(exc, ValueError | LookupError | TemplateError):
        return _scrub(str(exc))
    return "the template failed while rendering"


def _scrub(message: str, instead: str = "this operation is not allowed here") -> str:
    """Keep a message only when it reveals nothing of Python's internals; cap its length."""
    message = message.strip()
    if not message or _LEAKY.search(message):
        return instead
    return _capped(message)


def _capped(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "..."
