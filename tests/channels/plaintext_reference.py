"""Reference: `channels.email.plaintext` as first written (finishing 2), kept to compare against.

The converter was rewritten for speed; its output must stay byte for byte what this walk
writes (tests/channels/test_email_plaintext.py). Never change this file.

The plain-text alternative of an HTML email, written from lxml's parse in one pass (pure).

Email HTML is mostly tables, paragraphs and links; the text keeps what a reader of the plain
part needs: paragraphs apart, table rows on lines of their own with aligned columns, every
link's address after its text, list items starting with `*`. Hidden elements (`display:none`,
`hidden`: preheaders) and non-content (`head`, `style`, `script`) are left out. The walk keeps
its own stack: a hostile nesting depth costs a list, not Python's stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.etree as etree

_SKIPPED = frozenset({"head", "style", "script", "title", "template", "noscript", "svg"})
# Elements set apart from their neighbours by a blank line (2) or by a line break (1).
_BREAKS = dict.fromkeys(
    ("p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "blockquote", "pre", "table"), 2
) | dict.fromkeys(
    (
        "div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "address",
        "center", "form", "fieldset", "figure", "figcaption", "main", "nav", "aside", "hr",
        "caption", "tbody", "thead", "tfoot", "body",
    ),
    1,
)  # fmt: skip
_SPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all", re.I)
_SHOWN_SCHEMES = ("http:", "https:", "mailto:", "tel:")
# Bytes in a known encoding: a str carrying an XML declaration is refused by lxml, and a
# <meta charset> must not make the parser read our UTF-8 as something else.
_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)


@dataclass
class _Block:
    """Text being written: inline words, and the line breaks owed before the next words."""

    parts: list[str] = field(default_factory=list)
    breaks: int = 0
    pre: int = 0  # inside <pre>: whitespace kept

    def text(self, words: str) -> None:
        """Inline text, whitespace collapsed (kept inside <pre>)."""
        if not self.pre:
            words = _SPACE.sub(" ", words)
            if self.breaks or not self.parts or self.parts[-1][-1:] in (" ", "\n"):
                words = words.lstrip()
        if not words:
            return
        if self.breaks and self.parts:
            self.parts.append("\n" * self.breaks)
        self.breaks = 0
        self.parts.append(words)

    def lines(self, count: int) -> None:
        """Ask for `count` line breaks (2: a blank line) before whatever follows."""
        if count > self.breaks:
            self.breaks = count

    def raw(self, block: str, breaks: int = 1) -> None:
        """Text laid out already (a table, a cell), set apart on lines of its own."""
        if block:
            self.lines(breaks)
            pre, self.pre = self.pre, 1
            self.text(block)
            self.pre = pre
            self.lines(breaks)

    def value(self) -> str:
        """What was written, each line without trailing spaces."""
        text = "".join(self.parts)
        return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _layout(rows: list[list[str]]) -> str:
    """A table's rows on lines of their own; single-line cells in aligned columns."""
    rows = [cells for cells in ([c for c in row if c] for row in rows) if cells]
    if not rows:
        return ""
    if any("\n" in cell for cells in rows for cell in cells):  # a layout table
        return "\n\n".join("\n\n".join(cells) for cells in rows)
    widths = [0] * max(len(cells) for cells in rows)
    for cells in rows:
        for n, cell in enumerate(cells):
            widths[n] = max(widths[n], len(cell))
    return "\n".join("  ".join(c.ljust(widths[n]) for n, c in enumerate(r)).rstrip() for r in rows)


def _shown_href(href: str | None) -> str:
    href = (href or "").strip()
    return href if href.lower().startswith(_SHOWN_SCHEMES) else ""


def _link(words: str, href: str) -> str:
    shown = href.removeprefix("mailto:")
    if not href or words in (href, shown):
        return words or shown
    return f"{words} ({shown})" if words else shown


def _is_shown(element: etree._Element) -> bool:
    tag = element.tag
    if not isinstance(tag, str) or tag in _SKIPPED or element.get("hidden") is not None:
        return False
    style = element.get("style")
    return not (style and _HIDDEN.search(style))


class _Writer:
    """A stack of blocks: a link or a table cell writes into a block of its own."""

    def __init__(self) -> None:
        self.blocks = [_Block()]
        self.tables: list[list[list[str]]] = []
        self.links: list[str] = []

    def start(self, tag: str, element: etree._Element) -> None:
        block = self.blocks[-1]
        if tag in _BREAKS:
            block.lines(_BREAKS[tag])
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th", "a"):
            self.blocks.append(_Block(pre=block.pre))
            if tag == "a":
                self.links.append(_shown_href(element.get("href")))
        elif tag == "li":
            block.text("* ")
        elif tag == "br":
            block.lines(1)
        elif tag == "pre":
            block.pre += 1
        if element.text:
            self.blocks[-1].text(element.text)

    def end(self, tag: str) -> None:
        if tag == "table" and self.tables:
            self.blocks[-1].raw(_layout(self.tables.pop()), 2)
        elif tag in ("td", "th") and len(self.blocks) > 1:
            cell = self.blocks.pop().value()
            if self.tables and self.tables[-1]:
                self.tables[-1][-1].append(cell)
            else:
                self.blocks[-1].raw(cell)
        elif tag == "a" and len(self.blocks) > 1:
            words, href = self.blocks.pop().value(), self.links.pop()
            self.blocks[-1].text(_link(words, href))
        elif tag == "pre":
            self.blocks[-1].pre -= 1
        elif tag == "hr":
            self.blocks[-1].text("-" * 20)
        if tag in _BREAKS:
            self.blocks[-1].lines(_BREAKS[tag])

    def text(self) -> str:
        """The whole text (every cell and link block was closed by its element's end)."""
        return _BLANK_LINES.sub("\n\n", self.blocks[0].value())


def html_to_text(html: str) -> str:
    """The plain-text alternative of `html`, ending in one newline."""
    data = html.encode("utf-8", "replace")
    root = etree.fromstring(data, _PARSER) if html.strip() else None
    writer = _Writer()
    stack: list[tuple[etree._Element, bool]] = [] if root is None else [(root, False)]
    while stack:
        element, closing = stack.pop()
        if closing:
            writer.end(element.tag)
        elif _is_shown(element):
            writer.start(element.tag, element)
            stack.append((element, True))
            stack.extend((child, False) for child in reversed(element))
            continue
        if element.tail:
            writer.blocks[-1].text(element.tail)
    return writer.text() + "\n"
