"""Compile a checked block document to an email's HTML and text parts, deterministically.

The output is template source for the sandbox: variables become `{{ name }}`, conditions and
repeats `{% if %}` and `{% for %}`, content blocks `{{ block("key") }}`; everything the author
typed is escaped, so a paragraph holding `{{` stays text. The layout is tables with inline
styles (what email clients render); colours and fonts come from the brand theme at render time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import escape

from templates_store.visual_document import clean_document

Block = Mapping[str, Any]


def _brand(group: str, name: str, fallback: str) -> str:
    # A theme may lack a setting: the default filter keeps StrictUndefined from failing a send.
    return f"{{{{ (brand.{group} | default({{}})).{name} | default('{fallback}') }}}}"


PRIMARY = _brand("colors", "primary", "#0B5FFF")
TEXT = _brand("colors", "text", "#1A1A1A")
MUTED = _brand("colors", "muted", "#5F6B7A")
BACKGROUND = _brand("colors", "background", "#FFFFFF")
BODY_FONT = _brand("fonts", "body", "Arial") + ",Arial,Helvetica,sans-serif"
HEADING_FONT = _brand("fonts", "heading", "Arial") + ",Arial,Helvetica,sans-serif"
HEADING_SIZES = {1: (28, 34), 2: (22, 28), 3: (18, 24)}
TABLE = 'role="presentation" cellpadding="0" cellspacing="0" border="0"'
STACK_RULE = (
    "@media only screen and (max-width:480px){"
    ".hcs-col{display:block!important;width:100%!important;padding:0!important}}"
)


def html_text(text: str) -> str:
    """Author text for HTML: escaped, braces as character references so Jinja reads none."""
    return str(escape(text)).replace("{", "&#123;").replace("}", "&#125;")


def plain_text(text: str) -> str:
    """Author text for the text part: each `{` printed by Jinja, so no tag can start."""
    return text.replace("{", "{{ '{' }}")


def _variable(path: str, chip_filter: str | None = None) -> str:
    return f"{{{{ {path} | {chip_filter} }}}}" if chip_filter else f"{{{{ {path} }}}}"


def _href(url: str | None, url_var: str | None) -> str:
    return _variable(url_var) if url_var else html_text(url or "")


def _html_run(run: Block) -> str:
    if "var" in run:
        inner = _variable(run["var"], run.get("filter"))
    else:
        inner = html_text(run["text"]).replace("\n", "<br>")
    if run.get("bold"):
        inner = f"<strong>{inner}</strong>"
    if run.get("italic"):
        inner = f"<em>{inner}</em>"
    if "link" in run or "link_var" in run:
        href = _href(run.get("link"), run.get("link_var"))
        inner = f'<a href="{href}" style="color:{PRIMARY};text-decoration:underline">{inner}</a>'
    return inner


def html_runs(runs: list[Block]) -> str:
    """Inline runs as HTML."""
    return "".join(_html_run(run) for run in runs)


def text_runs(runs: list[Block], *, links: bool = True) -> str:
    """Inline runs as plain text; a link's address follows its words in brackets."""
    pieces = []
    for run in runs:
        words = (
            _variable(run["var"], run.get("filter")) if "var" in run else plain_text(run["text"])
        )
        target = run.get("link_var") and _variable(run["link_var"]) or run.get("link")
        pieces.append(f"{words} ({plain_text(target)})" if links and target else words)
    return "".join(pieces)


def _row(content: str, padding: str = "0 0 16px 0") -> str:
    return f'<tr><td style="padding:{padding}">{content}</td></tr>\n'


def _heading(block: Block) -> str:
    size, height = HEADING_SIZES[block["level"]]
    style = (
        f"margin:0;color:{PRIMARY};font-family:{HEADING_FONT};"
        f"font-size:{size}px;line-height:{height}px;font-weight:bold"
    )
    level = block["level"]
    return _row(f'<h{level} style="{style}">{html_runs(block["text"])}</h{level}>')


def _paragraph(block: Block) -> str:
    return _row(f'<p style="margin:0">{html_runs(block["text"])}</p>')


def _button(block: Block) -> str:
    href = _href(block.get("url"), block.get("url_var"))
    label = html_runs(
        [{k: v for k, v in r.items() if k not in ("link", "link_var")} for r in block["label"]]
    )
    link = (
        f'<a href="{href}" style="display:inline-block;padding:12px 24px;color:#FFFFFF;'
        f'font-family:{BODY_FONT};font-weight:bold;text-decoration:none">{label}</a>'
    )
    cell = f'<td style="border-radius:4px;background:{PRIMARY}">{link}</td>'
    return _row(f"<table {TABLE}><tr>{cell}</tr></table>")


def _image(block: Block) -> str:
    src = _href(block.get("src"), block.get("src_var"))
    width = block.get("width")
    sized = f' width="{width}"' if width else ""
    image = (
        f'<img src="{src}" alt="{html_text(block["alt"])}"{sized} '
        'style="display:block;max-width:100%;height:auto;border:0">'
    )
    if "link" in block:
        image = f'<a href="{html_text(block["link"])}">{image}</a>'
    return _row(image)


def _divider(block: Block) -> str:
    line = f'<div style="border-top:1px solid {MUTED};font-size:0;line-height:0">&nbsp;</div>'
    return _row(line, "8px 0 24px 0")


def _spacer(block: Block) -> str:
    height = block["height"]
    return f'<tr><td style="height:{height}px;font-size:0;line-height:0">&nbsp;</td></tr>\n'


def _column(blocks: list[Block], side: str) -> str:
    pad = "padding-right:8px" if side == "left" else "padding-left:8px"
    inner = f'<table {TABLE} width="100%">\n{html_blocks(blocks)}</table>'
    return f'<td class="hcs-col" width="50%" valign="top" style="width:50%;{pad}">{inner}</td>'


def _columns(block: Block) -> str:
    cells = _column(block["left"], "left") + _column(block["right"], "right")
    return _row(f'<table {TABLE} width="100%"><tr>{cells}</tr></table>', "0")


def _list(block: Block) -> str:
    tag = "ol" if block["ordered"] else "ul"
    items = "".join(f'<li style="margin:0 0 4px 0">{html_runs(i)}</li>' for i in block["items"])
    return _row(f'<{tag} style="margin:0;padding-left:24px">{items}</{tag}>')


def _content(block: Block) -> str:
    return _row(f'{{{{ block("{block["key"]}") }}}}')


def _condition(block: Block) -> str:
    inner = f"{{% if {block['variable']} %}}\n{html_blocks(block['blocks'])}"
    if block.get("otherwise"):
        inner += f"{{% else %}}\n{html_blocks(block['otherwise'])}"
    return inner + "{% endif %}\n"


def _repeat(block: Block) -> str:
    head = f"{{% for {block['as']} in {block['variable']} %}}\n"
    return head + html_blocks(block["blocks"]) + "{% endfor %}\n"


HTML_BLOCKS: dict[str, Callable[[Block], str]] = {
    "heading": _heading,
    "paragraph": _paragraph,
    "button": _button,
    "image": _image,
    "divider": _divider,
    "spacer": _spacer,
    "columns": _columns,
    "list": _list,
    "content": _content,
    "if": _condition,
    "repeat": _repeat,
}


def html_blocks(blocks: list[Block]) -> str:
    """Table rows for a list of blocks."""
    return "".join(HTML_BLOCKS[block["type"]](block) for block in blocks)


def compile_html(document: Block, *, locale: str) -> str:
    """The email's HTML part: a centred 600px table, every style inline."""
    body_style = f"margin:0;padding:0;background:{BACKGROUND}"
    inner_style = (
        f"border-collapse:collapse;width:100%;max-width:600px;font-family:{BODY_FONT};"
        f"color:{TEXT};font-size:16px;line-height:24px"
    )
    return (
        f'<!doctype html>\n<html lang="{html_text(locale)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<style>{STACK_RULE}</style>\n</head>\n"
        f'<body style="{body_style}">\n'
        f'<table {TABLE} width="100%" style="border-collapse:collapse;background:{BACKGROUND}">'
        '<tr><td align="center" style="padding:24px 12px">\n'
        f'<table {TABLE} width="600" style="{inner_style}">\n'
        f"{html_blocks(document['blocks'])}"
        "</table>\n</td></tr></table>\n</body>\n</html>\n"
    )


def _text_block(block: Block) -> str:
    kind = block["type"]
    if kind in ("heading", "paragraph"):
        return text_runs(block["text"]) + "\n\n"
    if kind == "button":
        target = _variable(block["url_var"]) if "url_var" in block else plain_text(block["url"])
        return f"{text_runs(block['label'], links=False)}: {target}\n\n"
    if kind == "divider":
        return "----------\n\n"
    if kind == "list":
        marks = [f"{n}." if block["ordered"] else "-" for n in range(1, len(block["items"]) + 1)]
        return (
            "".join(f"{m} {text_runs(i)}\n" for m, i in zip(marks, block["items"], strict=True))
            + "\n"
        )
    if kind == "content":
        return f'{{{{ block("{block["key"]}") }}}}\n\n'
    if kind == "columns":
        return text_blocks(block["left"]) + text_blocks(block["right"])
    if kind == "if":
        otherwise = block.get("otherwise")
        rest = f"{{% else %}}{text_blocks(otherwise)}" if otherwise else ""
        return f"{{% if {block['variable']} %}}{text_blocks(block['blocks'])}{rest}{{% endif %}}"
    if kind == "repeat":
        inner = text_blocks(block["blocks"])
        return f"{{% for {block['as']} in {block['variable']} %}}{inner}{{% endfor %}}"
    return ""  # images and spacers have no text of their own


def text_blocks(blocks: list[Block]) -> str:
    """The text part of a list of blocks, each followed by a blank line."""
    return "".join(_text_block(block) for block in blocks)


def compile_text(document: Block) -> str:
    """The email's plain-text part."""
    return text_blocks(document["blocks"]).rstrip("\n") + "\n"


def compile_email(document: Block, *, locale: str) -> dict[str, str]:
    """`{"html": ..., "text": ...}` for a checked document: same document, same bytes."""
    return {"html": compile_html(document, locale=locale), "text": compile_text(document)}


def compile_checked(document: object, *, locale: str) -> dict[str, str]:
    """Check a document as it came in, then compile it (what converting to code shows)."""

    return compile_email(clean_document(document), locale=locale)
