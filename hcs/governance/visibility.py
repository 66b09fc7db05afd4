"""The text of an HTML body a reader actually sees: no comments, no hidden elements.

A disclosure inside `<!-- -->`, a `<style>`, `<script>` or `<template>`, an element marked
`hidden` or `aria-hidden`, or styled away (`display: none`, `visibility: hidden`, zero size or
opacity; rules of a style sheet count once inlined) is not read by anyone, so it discloses
nothing.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from channels.email.message import inline_css
from channels.errors import InvalidContent

_SKIPPED = frozenset({"script", "style", "template", "head", "title", "noscript"})
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_HIDING = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*(hidden|collapse)|font-size\s*:\s*0(?![.\d]*[1-9])"
    r"|opacity\s*:\s*0(?![.\d]*[1-9])|max-height\s*:\s*0(?![.\d]*[1-9])",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


def _hides(tag: str, attrs: dict[str, str | None]) -> bool:
    if tag in _SKIPPED or "hidden" in attrs:
        return True
    if (attrs.get("aria-hidden") or "").strip().lower() == "true":
        return True
    return bool(_HIDING.search(attrs.get("style") or ""))


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.hidden_at: int | None = None  # depth of the element that hides what is inside
        self.pieces: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        self.open.append(tag)
        if self.hidden_at is None and _hides(tag, dict(attrs)):
            self.hidden_at = len(self.open)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.open:
            return
        while self.open:  # close what was left open inside it too
            closed = self.open.pop()
            if self.hidden_at is not None and len(self.open) < self.hidden_at:
                self.hidden_at = None
            if closed == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.hidden_at is None:
            self.pieces.append(data)


def visible_text(markup: str, css: str = "") -> str:
    """What a reader sees of `markup` (with `css`'s rules applied inline), spaces collapsed."""
    # A style sheet holds no markup: a "<" in it could only fake text for this reading.
    sheet = css.replace("<", "")
    source = f"<style>{sheet}</style>{markup}" if sheet.strip() else markup
    try:
        source = inline_css(source)
    except InvalidContent:
        pass  # unparseable rules hide nothing we could see: read the markup as it is
    parser = _Visible()
    parser.feed(source)
    parser.close()
    return _SPACE.sub(" ", html.unescape(" ".join(parser.pieces))).strip()
