"""The suite builds an app per test (about 2,000 on each backend): what makes that cheaper."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from werkzeug.routing import Rule


def share_url_builders() -> None:
    """One compiled URL builder per rule for every app of the process.

    Werkzeug compiles two builders (Python code, through `ast` and `compile`) for each rule of
    each app: half of what `create_app` costs, paid again by every test's app. A builder of a
    rule without defaults is made from the rule's text and parsed parts alone and is bound to
    each rule when used, so the same rule in another app can take the one compiled before.
    Rules with defaults (their values are folded into the code) are compiled as before.
    """
    compile_builder: Callable[..., Any] = Rule._compile_builder
    if getattr(compile_builder, "shared", False):
        return
    built: dict[tuple[str, tuple[tuple[bool, str], ...], bool], Any] = {}

    @wraps(compile_builder)
    def shared(self: Rule, append_unknown: bool = True) -> Any:
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    shared.shared = True  # type: ignore[attr-defined]
    Rule._compile_builder = shared  # type: ignore[method-assign]
