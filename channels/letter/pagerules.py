"""The author's letter CSS with the page left to the platform: `@page` rules taken out.

The author's CSS goes into the document as an author-origin `<style>`; the platform's locked
sheet is a user-origin sheet whose declarations are `!important`, which the cascade puts above
every author rule whatever its specificity. `@page` rules (and so page size, margins and the
margin boxes that hold the footer) are removed from the author's CSS as well, at any depth.
"""

from __future__ import annotations

from typing import Any

import tinycss2

_GROUPING = frozenset({"media", "supports", "layer", "document", "container", "scope"})
#: every page-margin box: the platform owns the margins and what they show
MARGIN_BOXES = tuple(
    f"{edge}-{where}"
    for edge, places in (
        ("top", ("left-corner", "left", "center", "right", "right-corner")),
        ("bottom", ("left-corner", "left", "center", "right", "right-corner")),
        ("left", ("top", "middle", "bottom")),
        ("right", ("top", "middle", "bottom")),
    )
    for where in places
)


def _cleaned(rules: list[Any]) -> str:
    kept = []
    for rule in rules:
        if rule.type == "at-rule" and rule.lower_at_keyword == "page":
            continue
        if rule.type == "at-rule" and rule.lower_at_keyword in _GROUPING and rule.content:
            inner = _cleaned(tinycss2.parse_rule_list(rule.content))
            prelude = tinycss2.serialize(rule.prelude)
            kept.append(f"@{rule.at_keyword}{prelude}{{{inner}}}")
        elif rule.type in ("qualified-rule", "at-rule"):
            kept.append(rule.serialize())
    return "\n".join(kept)


def author_stylesheet(css: str) -> str:
    """The author's CSS without `@page` rules, safe to place inside a `<style>` element."""
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    # `</` could close the <style> element: in CSS `\/` is the same character.
    return _cleaned(rules).replace("</", "<\\/")


def style_element(css: str) -> str:
    """The author's cleaned CSS as a `<style>` element for the document's head."""
    cleaned = author_stylesheet(css)
    return f"<style>{cleaned}</style>" if cleaned else ""
