"""The visual email design as a plain form, for browsers without script: fields to document.

Every post carries the whole document (a hidden JSON field) and the fields of each block; the
fields are read over the document, then the one button pressed (`op`) moves, removes or adds a
block. Text is only ever text: `{{ name }}` typed in a text field becomes a variable chip, as
the picker makes one. Text whose words are unchanged keeps its bold, italic and links.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from templates_store.errors import ValidationFailed

KINDS = {
    "heading": "Heading",
    "paragraph": "Paragraph",
    "button": "Button",
    "image": "Image",
    "divider": "Divider",
    "spacer": "Spacer",
    "columns": "Two columns",
    "list": "List",
    "content": "Content block",
    "if": "Shown only if",
    "repeat": "Repeated for each",
}
NESTED = {"columns": ("left", "right"), "if": ("blocks", "otherwise"), "repeat": ("blocks",)}
NESTED_LABELS = {
    "left": "Left column",
    "right": "Right column",
    "blocks": "Inside",
    "otherwise": "Otherwise (when it is not set)",
}
CHIP = re.compile(r"\{\{\s*([A-Za-z][\w.]*)\s*(?:\|\s*([a-z]+)\s*)?\}\}")
VARIABLE_LINK = re.compile(r"\{\{\s*([A-Za-z][\w.]*)\s*\}\}\Z")


def runs_to_text(runs: list[dict[str, Any]]) -> str:
    """Runs as one editable text: variables as `{{ name }}` (`{{ name | date }}`)."""
    out = []
    for run in runs:
        if "var" in run and run.get("filter"):
            out.append(f"{{{{ {run['var']} | {run['filter']} }}}}")
        elif "var" in run:
            out.append(f"{{{{ {run['var']} }}}}")
        else:
            out.append(str(run.get("text", "")))
    return "".join(out)


def text_to_runs(text: str, before: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The runs of a typed text; the runs it had when the words did not change (marks kept)."""
    text = text.replace("\r\n", "\n")
    if before is not None and runs_to_text(before) == text:
        return before
    runs: list[dict[str, Any]] = []
    at = 0
    for chip in CHIP.finditer(text):
        if chip.start() > at:
            runs.append({"text": text[at : chip.start()]})
        runs.append({"var": chip[1], "filter": chip[2]} if chip[2] else {"var": chip[1]})
        at = chip.end()
    if at < len(text) or not runs:
        runs.append({"text": text[at:]})
    return runs


def fresh(kind: str, variable: str) -> dict[str, Any]:
    """A new block of `kind`, as the visual editor adds it."""
    paragraph = {"type": "paragraph", "text": [{"text": "Write something."}]}
    made: dict[str, dict[str, Any]] = {
        "heading": {"type": "heading", "level": 2, "text": [{"text": "A heading"}]},
        "paragraph": paragraph,
        "button": {
            "type": "button",
            "label": [{"text": "Find out more"}],
            "url": "https://www.example.com/",
        },
        "image": {"type": "image", "src": "https://", "alt": ""},
        "divider": {"type": "divider"},
        "spacer": {"type": "spacer", "height": 24},
        "columns": {"type": "columns", "left": [paragraph], "right": [paragraph]},
        "list": {"type": "list", "ordered": False, "items": [[{"text": "First"}]]},
        "content": {"type": "content", "key": "footer"},
        "if": {"type": "if", "variable": variable, "blocks": [paragraph]},
        "repeat": {"type": "repeat", "variable": variable, "as": "item", "blocks": [paragraph]},
    }
    if kind not in made:
        raise ValidationFailed({"kind": [f"must be one of {', '.join(KINDS)}"]})
    return copy.deepcopy(made[kind])


def read_document(text: str) -> dict[str, Any]:
    """The document the form carries; ValidationFailed when it is not one."""
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("blocks"), list):
        unread = "the design could not be read: open it from the editor again"
        raise ValidationFailed({"document": [unread]})
    return document


def _walk(document: dict[str, Any], path: str) -> Any:
    """The list or block at a dotted path such as `blocks.2.left.0`."""
    node: Any = document
    for token in path.split("."):
        try:
            node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ValidationFailed({"op": [f"there is no {path} in the design"]}) from None
    return node


def apply_fields(document: dict[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """The document with each block's posted fields read over it."""
    changed = copy.deepcopy(document)
    _fields_of_list(changed["blocks"], "blocks", form)
    return changed


def _fields_of_list(blocks: list[dict[str, Any]], path: str, form: Mapping[str, str]) -> None:
    for index, block in enumerate(blocks):
        where = f"{path}.{index}"
        _fields_of_block(block, where, form)
        for key in NESTED.get(block.get("type", ""), ()):
            _fields_of_list(block.get(key) or [], f"{where}.{key}", form)


def _fields_of_block(block: dict[str, Any], where: str, form: Mapping[str, str]) -> None:
    for key in ("text", "label"):
        if f"{where}.{key}" in form:
            block[key] = text_to_runs(form[f"{where}.{key}"], block.get(key))
    for key in ("src", "alt", "variable", "as", "key"):
        if f"{where}.{key}" in form:
            block[key] = form[f"{where}.{key}"].strip()
    for key in ("level", "height", "width"):
        _number(block, key, form.get(f"{where}.{key}"))
    if f"{where}.url" in form:
        _target(block, form[f"{where}.url"].strip())
    if f"{where}.ordered" in form:
        block["ordered"] = form[f"{where}.ordered"] == "numbered"
    if f"{where}.items" in form:
        lines = [line for line in form[f"{where}.items"].replace("\r\n", "\n").split("\n")]
        olds = block.get("items") or []
        block["items"] = [
            text_to_runs(line, olds[i] if i < len(olds) else None)
            for i, line in enumerate(lines)
            if line.strip()
        ]


def _number(block: dict[str, Any], key: str, value: str | None) -> None:
    if value is None:
        return
    if not value.strip():
        block.pop(key, None)
        return
    try:
        block[key] = int(value)
    except ValueError:
        block[key] = value  # kept as typed: the check names the field


def _target(block: dict[str, Any], value: str) -> None:
    block.pop("url", None)
    block.pop("url_var", None)
    variable = VARIABLE_LINK.match(value)
    if variable:
        block["url_var"] = variable[1]
    else:
        block["url"] = value


def apply_op(document: dict[str, Any], op: str, form: Mapping[str, str], variable: str) -> None:
    """Move, remove or add one block, as the button pressed (`op`) says."""
    verb, _, path = op.partition(":")
    if verb == "add":
        owner, _, key = path.rpartition(".")
        if key == "otherwise" and _walk(document, owner).get("type") == "if":
            _walk(document, owner).setdefault("otherwise", [])  # its first block starts it
        blocks = _walk(document, path)
        if not isinstance(blocks, list):
            raise ValidationFailed({"op": [f"there is no list of blocks at {path}"]})
        blocks.append(fresh(form.get(f"kind.{path}", ""), variable))
        return
    parent, _, last = path.rpartition(".")
    blocks, index = _walk(document, parent), int(last) if last.isdigit() else -1
    if not isinstance(blocks, list) or not 0 <= index < len(blocks):
        raise ValidationFailed({"op": [f"there is no block {path} in the design"]})
    if verb == "remove":
        del blocks[index]
    elif verb in ("up", "down"):
        other = index - 1 if verb == "up" else index + 1
        if 0 <= other < len(blocks):
            blocks[index], blocks[other] = blocks[other], blocks[index]
    elif verb != "check":
        raise ValidationFailed({"op": [f"unknown action {verb!r}"]})


BLOCK_LISTS = ("blocks", "left", "right", "otherwise")


def block_of(key: str) -> str:
    """The block an error key is about: `blocks.2.left.0.text.0` → `blocks.2.left.0`."""
    tokens, end, at = key.split("."), 0, 0
    while at + 1 < len(tokens) and tokens[at] in BLOCK_LISTS and tokens[at + 1].isdigit():
        end, at = at + 2, at + 2
    return ".".join(tokens[:end])


def problems_by_block(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Each message, worded as the visual editor shows it (`blocks.2.alt: ...`), by block."""
    found: dict[str, list[str]] = {}
    for key, messages in errors.items():
        found.setdefault(block_of(key), []).extend(f"{key}: {m}" for m in messages)
    return found
