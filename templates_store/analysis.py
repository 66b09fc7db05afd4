"""Static analysis of template sources: syntax, the variables they read, the blocks they include."""

from __future__ import annotations

from jinja2 import meta, nodes
from jinja2.exceptions import TemplateSyntaxError

from templates_store.errors import TemplateSyntaxProblem
from templates_store.rendering import compile_part, environment, problem
from templates_store.sandbox import RESERVED_NAMES

__all__ = ["RESERVED_NAMES", "check_syntax", "parsed", "used_blocks", "used_variables"]


def parsed(source: str, part: str) -> nodes.Template:
    """The syntax tree of a source; one that does not parse is refused, naming the part."""
    try:
        return environment(html=False).parse(source)
    except TemplateSyntaxError as exc:
        raise problem(exc, part) from None


def check_syntax(source: str, *, part: str) -> None:
    """Refuse a source that does not compile, naming the part and line."""
    compile_part(source, part=part, html=False)


def used_variables(source: str, *, part: str) -> set[str]:
    """The top-level names the source reads and does not set itself, minus the reserved ones."""
    return set(meta.find_undeclared_variables(parsed(source, part))) - RESERVED_NAMES


def used_blocks(source: str, *, part: str) -> set[str]:
    """The keys of the content blocks the source includes with `block("key")`."""
    keys: set[str] = set()
    for call in parsed(source, part).find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "block":
            key = call.args[0] if call.args else None
            if not isinstance(key, nodes.Const) or not isinstance(key.value, str):
                raise TemplateSyntaxProblem(part, "block() takes one quoted key", call.lineno)
            keys.add(key.value)
    return keys
