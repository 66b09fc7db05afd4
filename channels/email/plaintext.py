"""The plain-text alternative of an HTML email, written from lxml's parse in one pass (pure).

Email HTML is mostly tables, paragraphs and links; the text keeps what a reader of the plain
part needs: paragraphs apart, table rows on lines of their own with aligned columns, every
link's address after its text, list items starting with `*`. Hidden elements (`display:none`,
`hidden`: preheaders) and non-content (`head`, `style`, `script`) are left out. lxml's
`iterwalk` drives the walk: a hostile nesting depth costs no Python stack.

These are the rules of finishing 2 (`message.FINISHING`): archived mail is finished again and
compared byte for byte, so the output must never change. tests/channels/plaintext_reference.py
is the walk as first written; tests/channels/test_email_plaintext.py compares the two.
"""

from __future__ import annotations

import re

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
# Elements whose start or end does more than ask for line breaks.
_OPENING = frozenset({"table", "tr", "td", "th", "a", "li", "br", "pre"})
_CLOSING = frozenset({"table", "td", "th", "a", "pre", "hr"})
_BLANK_LINES = re.compile(r"\n{3,}")
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all", re.I)
# The same on lower-cased ASCII, four times faster: beyond ASCII, re.I matches more than
# lower() gives (`ſ` is an `s` to it), so only ASCII styles take this path.
_HIDDEN_LOWER = re.compile(_HIDDEN.pattern)
_SHOWN_SCHEMES = ("http:", "https:", "mailto:", "tel:")
# Bytes in a known encoding: a str carrying an XML declaration is refused by lxml, and a
# <meta charset> must not make the parser read our UTF-8 as something else.
_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)


def _collapsed(words: str) -> str:
    """Each run of whitespace as one space (`re.sub(r"\\s+", " ", words)`, three times faster)."""
    joined = " ".join(words.split())
    if words[0].isspace():
        joined = " " + joined
    if words[-1].isspace():
        joined += " "
    return joined


class _Block:
    """Text being written: inline words, and the line breaks owed before the next words."""

    __slots__ = ("parts", "breaks", "pre", "spaced")

    def __init__(self, pre: int = 0) -> None:
        self.parts: list[str] = []
        self.breaks = 0
        self.pre = pre  # inside <pre>: whitespace kept
        self.spaced = True  # nothing written yet, or it ends in a space or a line break

    def text(self, words: str) -> None:
        """Inline text, whitespace collapsed (kept inside <pre>)."""
        if not self.pre:
            if words.isspace():  # most text between tags: one space at most
                if self.breaks or self.spaced:
                    return
                self.parts.append(" ")
                self.spaced = True
                return
            if not words:
                return
            words = _collapsed(words)
            if self.breaks or self.spaced:
                words = words.lstrip()
        elif not words:
            return
        if self.breaks:
            if self.parts:
                self.parts.append("\n" * self.breaks)
            self.breaks = 0
        self.parts.append(words)
        last = words[-1]
        self.spaced = last == " " or last == "\n"

    def raw(self, block: str, breaks: int = 1) -> None:
        """Text laid out already (a table, a cell), set apart on lines of its own."""
        if block:
            if breaks > self.breaks:
                self.breaks = breaks
            pre, self.pre = self.pre, 1
            self.text(block)
            self.pre = pre
            self.breaks = breaks  # text() left none owed

    def value(self) -> str:
        """What was written, each line without trailing spaces."""
        text = "".join(self.parts)
        if "\n" not in text:  # a cell or a link: one line
            return text.rstrip()
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
    if not isinstance(tag, str) or tag in _SKIPPED:
        return False
    if not element.keys():  # most elements have no attributes: one call instead of two
        return True
    if element.get("hidden") is not None:
        return False
    style = element.get("style")
    if not style:
        return True
    if style.isascii():
        return _HIDDEN_LOWER.search(style.lower()) is None
    return _HIDDEN.search(style) is None


class _Writer:
    """A stack of blocks: a link or a table cell writes into a block of its own."""

    __slots__ = ("block", "blocks", "tables", "links")

    def __init__(self) -> None:
        self.block = _Block()  # the innermost: blocks[-1]
        self.blocks = [self.block]
        self.tables: list[list[list[str]]] = []
        self.links: list[str] = []

    def start(self, tag: str, element: etree._Element) -> None:
        """An element opens: its line breaks, its own block or table, then its text."""
        block = self.block
        breaks = _BREAKS.get(tag, 0)
        if breaks > block.breaks:
            block.breaks = breaks
        if tag in _OPENING:
            self._open(tag, block, element)
        text = element.text
        if text:
            self.block.text(text)

    def _open(self, tag: str, block: _Block, element: etree._Element) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            if self.tables:
                self.tables[-1].append([])
        elif tag in ("td", "th", "a"):
            self.block = _Block(block.pre)
            self.blocks.append(self.block)
            if tag == "a":
                self.links.append(_shown_href(element.get("href")))
        elif tag == "li":
            block.text("* ")
        elif tag == "br":
            if block.breaks < 1:
                block.breaks = 1
        else:  # pre
            block.pre += 1

    def end(self, tag: str) -> None:
        """An element closes: what it laid out goes into the block around it."""
        if tag in _CLOSING:
            self._close(tag)
        breaks = _BREAKS.get(tag, 0)
        if breaks > self.block.breaks:
            self.block.breaks = breaks

    def _close(self, tag: str) -> None:
        if tag == "table":
            if self.tables:
                self.block.raw(_layout(self.tables.pop()), 2)
        elif tag == "a" or tag == "td" or tag == "th":
            if len(self.blocks) > 1:
                words = self.blocks.pop().value()
                self.block = self.blocks[-1]
                if tag == "a":
                    self.block.text(_link(words, self.links.pop()))
                elif self.tables and self.tables[-1]:
                    self.tables[-1][-1].append(words)
                else:
                    self.block.raw(words)
        elif tag == "pre":
            self.block.pre -= 1
        else:  # hr
            self.block.text("-" * 20)

    def text(self) -> str:
        """The whole text (every cell and link block was closed by its element's end)."""
        text = self.blocks[0].value()
        return _BLANK_LINES.sub("\n\n", text) if "\n\n\n" in text else text


def _walk(root: etree._Element, writer: _Writer) -> None:
    """Write `root`, its shown descendants and its tail, in document order."""
    walker = etree.iterwalk(root, events=("start", "end"))
    skipped = None
    for event, element in walker:
        if event == "start":
            if _is_shown(element):
                writer.start(element.tag, element)
            else:
                walker.skip_subtree()  # its end still comes, for its tail
                skipped = element
            continue
        if element is skipped:
            skipped = None
        else:
            writer.end(element.tag)
        tail = element.tail
        if tail:
            writer.block.text(tail)


def html_to_text(html: str) -> str:
    """The plain-text alternative of `html`, ending in one newline."""
    data = html.encode("utf-8", "replace")
    root = etree.fromstring(data, _PARSER) if html and not html.isspace() else None
    writer = _Writer()
    if root is not None:
        _walk(root, writer)
    return writer.text() + "\n"
