"""Differences between two versions, part by part: unified text and structured hunks."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from templates_store.models import BlockVersion, TemplateVersion, ThemeVersion
from templates_store.parts import iter_parts, part_name


@dataclass(frozen=True)
class PartDiff:
    """How one part changed between two versions."""

    part: str
    change: str  # "added", "removed", "modified" or "unchanged"
    unified: str
    hunks: list[dict[str, Any]] = field(default_factory=list)
    # The whole part word by word: [{"op": "equal" | "insert" | "delete", "text": ...}, ...]
    words: list[dict[str, str]] = field(default_factory=list)


# A word, a run of spaces, or one punctuation mark: what a reader sees change.
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
# Word diffs run inside changed lines only, and cost grows with the square of a run's length:
# a changed run longer than this, or past the part's budget, is shown whole (deleted, inserted).
MAX_WORD_TOKENS = 2000
WORD_BUDGET = 6000


def _segment(op: str, text: str, into: list[dict[str, str]]) -> None:
    if not text:
        return
    if into and into[-1]["op"] == op:
        into[-1] = {"op": op, "text": into[-1]["text"] + text}
    else:
        into.append({"op": op, "text": text})


def _words_of(old: str, new: str, into: list[dict[str, str]], budget: int) -> int:
    """Append one changed run word by word when it fits; the budget left."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    size = len(a) + len(b)
    if size > min(MAX_WORD_TOKENS, budget):
        _segment("delete", old, into)
        _segment("insert", new, into)
        return budget
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            _segment("equal", "".join(a[i1:i2]), into)
            continue
        _segment("delete", "".join(a[i1:i2]), into)
        _segment("insert", "".join(b[j1:j2]), into)
    return budget - size


def word_diff(old: str, new: str) -> list[dict[str, str]]:
    """Insertions and deletions word by word: lines first, then words within changed lines."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    words: list[dict[str, str]] = []
    budget = WORD_BUDGET
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            _segment("equal", "".join(a[i1:i2]), words)
        else:
            budget = _words_of("".join(a[i1:i2]), "".join(b[j1:j2]), words, budget)
    return words


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def flatten(version: TemplateVersion) -> dict[str, str]:
    """Every comparable part of a version as text, keyed by its part name."""
    flat = {
        part_name(channel, field_, locale): _as_text(value)
        for channel, locale, field_, value in iter_parts(version.parts)
    }
    flat["variables"] = _as_text(version.variables)
    flat["sample_data"] = _as_text(version.sample_data)
    flat["ai_slots"] = _as_text(version.ai_slots)
    if version.closure is not None:
        flat["closure"] = _as_text(
            {
                "blocks": {k: v["number"] for k, v in version.closure["blocks"].items()},
                "theme": version.closure.get("theme") and version.closure["theme"]["number"],
            }
        )
    return flat


def _hunks(old: list[str], new: list[str]) -> list[dict[str, Any]]:
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return [
        {
            "op": op,
            "old_start": i1 + 1,
            "old_lines": old[i1:i2],
            "new_start": j1 + 1,
            "new_lines": new[j1:j2],
        }
        for op, i1, i2, j1, j2 in matcher.get_opcodes()
        if op != "equal"
    ]


def diff_part(name: str, old: str | None, new: str | None, labels: tuple[str, str]) -> PartDiff:
    """The diff of one part; `None` means the part is absent on that side."""
    old_lines = (old or "").splitlines()
    new_lines = (new or "").splitlines()
    if old is None:
        change = "added"
    elif new is None:
        change = "removed"
    else:
        change = "modified" if old != new else "unchanged"
    unified = "\n".join(
        difflib.unified_diff(
            old_lines, new_lines, f"{labels[0]}/{name}", f"{labels[1]}/{name}", lineterm=""
        )
    )
    return PartDiff(
        part=name,
        change=change,
        unified=unified,
        hunks=_hunks(old_lines, new_lines),
        words=word_diff(old or "", new or ""),
    )


def diff_versions(old: TemplateVersion, new: TemplateVersion) -> list[PartDiff]:
    """The per-part diff from `old` to `new`, in a stable order of part names."""
    before, after = flatten(old), flatten(new)
    labels = (f"v{old.number}", f"v{new.number}")
    return [
        diff_part(name, before.get(name), after.get(name), labels)
        for name in sorted(before.keys() | after.keys())
    ]


def flatten_component(version: BlockVersion | ThemeVersion) -> dict[str, str]:
    """A block's sources by `format.locale`, or a theme's settings and its assets, as text."""
    if isinstance(version, BlockVersion):
        return {
            f"{fmt}.{locale}": source
            for fmt, locales in sorted(version.content.items())
            for locale, source in sorted(locales.items())
        }
    assets = [
        f"{name} ({asset['content_type']}, sha256:{_digest(asset['data'])})"
        for name, asset in sorted(version.assets.items())
    ]
    return {"settings": _as_text(version.settings), "assets": "\n".join(assets)}


def _digest(data: str) -> str:
    return hashlib.sha256(data.encode()).hexdigest()[:12]


def diff_components(
    old: BlockVersion | ThemeVersion, new: BlockVersion | ThemeVersion
) -> list[PartDiff]:
    """The diff from one block (or theme) version to another, per source."""
    before, after = flatten_component(old), flatten_component(new)
    labels = (f"v{old.number}", f"v{new.number}")
    return [
        diff_part(name, before.get(name), after.get(name), labels)
        for name in sorted(before.keys() | after.keys())
    ]
