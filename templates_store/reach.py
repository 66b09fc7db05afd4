"""Which branches of a template reach a name or a block: to prove one always comes with another.

A place in a template is described by its chain of enclosing branches (an `if`'s body or
`else`, a loop body, a macro, a conditional expression's arm, ...). Whatever renders at a place
whose chain is a prefix of another's renders whenever that other place does: a block included
at the top renders with everything, one inside `{% if vip %}` only with what is inside it too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from jinja2 import nodes

from templates_store.analysis import parsed

Chain = tuple[str, ...]

# Nodes whose fields render only sometimes (or not where they stand), field by field.
_BRANCHING: dict[type[nodes.Node], tuple[str, ...]] = {
    nodes.If: ("body", "elif_", "else_"),
    nodes.For: ("body", "else_", "test"),
    nodes.Macro: ("body",),
    nodes.CallBlock: ("body",),
    nodes.AssignBlock: ("body",),
    nodes.CondExpr: ("expr1", "expr2"),
    nodes.And: ("right",),
    nodes.Or: ("right",),
}


@dataclass
class Reach:
    """Where a source reads the watched names and where it includes each block."""

    uses: list[Chain] = field(default_factory=list)
    blocks: dict[str, list[Chain]] = field(default_factory=dict)

    def covers(self, key: str, chain: Chain) -> bool:
        """Whether block `key` is included wherever `chain` renders (at it or above it)."""
        return any(chain[: len(at)] == at for at in self.blocks.get(key, []))


def _block_key(node: nodes.Call) -> str | None:
    if isinstance(node.node, nodes.Name) and node.node.name == "block" and node.args:
        key = node.args[0]
        if isinstance(key, nodes.Const) and isinstance(key.value, str):
            return key.value
    return None


def _children(node: nodes.Node, chain: Chain) -> Iterator[tuple[nodes.Node, Chain]]:
    branching = _BRANCHING.get(type(node), ())
    for name in node.fields:
        value = getattr(node, name)
        inner = (*chain, f"{id(node)}.{name}") if name in branching else chain
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, nodes.Node):
                yield child, inner


def _walk(node: nodes.Node, chain: Chain, names: Collection[str], found: Reach) -> None:
    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name in names:
        found.uses.append(chain)
    if isinstance(node, nodes.Call) and (key := _block_key(node)) is not None:
        found.blocks.setdefault(key, []).append(chain)
    for child, inner in _children(node, chain):
        _walk(child, inner, names, found)


def reach(source: str, *, part: str, names: Collection[str]) -> Reach:
    """Where `source` reads any of `names` and includes blocks, as chains of branches."""
    found = Reach()
    _walk(parsed(source, part), (), names, found)
    return found
