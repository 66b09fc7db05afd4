"""Letter layout: page sizes, the window-envelope address block, page numbers, brand fonts."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from channels.errors import InvalidContent
from channels.letter.pagerules import MARGIN_BOXES, style_element


@dataclass(frozen=True)
class PageFormat:
    """A paper size with its margins and address window, in CSS lengths."""

    size: str
    margins: str
    window_top: str
    window_left: str
    window_width: str
    window_height: str
    body_start: str


# DIN 5008 form B for A4 (window 20 mm from the left, 45 mm from the top, 85 x 45 mm);
# a #10 window envelope for US Letter (7/8 in from the left, 2 in from the top).
PAGE_FORMATS: Mapping[str, PageFormat] = {
    "A4": PageFormat("A4", "20mm 20mm 25mm 25mm", "25mm", "-5mm", "85mm", "45mm", "78mm"),
    "Letter": PageFormat(
        "letter", "0.75in 1in 1in 1in", "1.25in", "-0.125in", "3.75in", "1.125in", "2.7in"
    ),
}

_FONT_FACE = re.compile(r"@font-face|@import", re.IGNORECASE)


@dataclass(frozen=True)
class LetterContent:
    """The rendered parts of a letter: a body fragment and the author's CSS."""

    html: str
    css: str = ""


@dataclass(frozen=True)
class LetterSettings:
    """Paper, brand and the bounds a letter must stay within, passed in by the application."""

    page_size: str = "A4"
    pdf_variant: str | None = None
    brand_assets: Mapping[str, bytes] = field(default_factory=dict)
    brand_css: str = ""
    return_address: str | None = None
    language: str = "en"
    max_image_pixels: int = 25_000_000
    max_data_url_bytes: int = 256 * 1024
    max_html_chars: int = 500_000
    max_pages: int = 20
    timeout_seconds: float = 20.0
    recycle_after: int = 20_000
    # Printed at the top of every page (a test letter's "TEST"), above anything the author styles.
    watermark: str | None = None


def page_format(settings: LetterSettings) -> PageFormat:
    """The PageFormat for the settings' paper size."""
    try:
        return PAGE_FORMATS[settings.page_size]
    except KeyError as exc:
        raise InvalidContent(f"unknown page size {settings.page_size!r}") from exc


def base_stylesheet(settings: LetterSettings) -> str:
    """The brand's fonts and defaults, which the author's CSS may refine."""
    return f"""
@font-face {{ font-family: "HCS Sans"; font-weight: 400;
  src: url(fonts/LiberationSans-Regular.ttf); }}
@font-face {{ font-family: "HCS Sans"; font-weight: 700;
  src: url(fonts/LiberationSans-Bold.ttf); }}
@font-face {{ font-family: "HCS Fallback"; src: url(fonts/DejaVuSans.ttf); }}
html {{ font-family: "HCS Sans", "HCS Fallback"; font-size: 10.5pt; line-height: 1.35; }}
{settings.brand_css}
"""


def locked_stylesheet(settings: LetterSettings) -> str:
    """Page box, margins, page numbers and the address window: the platform's, all `!important`.

    Given as a user-origin sheet, its `!important` declarations outrank every author rule.
    """
    fmt = page_format(settings)
    ours = ("bottom-right", "top-center") if settings.watermark else ("bottom-right",)
    boxes = "".join(
        f"@{box} {{ content: none !important; }}" for box in MARGIN_BOXES if box not in ours
    )
    return f"""
@page {{
  size: {fmt.size} !important; margin: {fmt.margins} !important;
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages) !important;
    font: 8pt "HCS Sans", "HCS Fallback" !important; }}
  {_watermark_box(settings.watermark)}
  {boxes}
}}
html, body, body * {{ page: auto !important; }}
.hcs-window {{ position: absolute !important; top: {fmt.window_top} !important;
  left: {fmt.window_left} !important; width: {fmt.window_width} !important;
  height: {fmt.window_height} !important; overflow: hidden !important; margin: 0 !important;
  padding: 0 !important; font-size: 10pt !important; line-height: 1.25 !important;
  transform: none !important; display: block !important; visibility: visible !important; }}
.hcs-return {{ font-size: 7pt !important; text-decoration: underline; margin-bottom: 2mm; }}
.hcs-after-window {{ height: {fmt.body_start} !important; display: block !important; }}
"""


def _watermark_box(watermark: str | None) -> str:
    """The top-centre margin box holding the watermark, or nothing."""
    if not watermark:
        return ""
    quoted = watermark.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return (
        f'@top-center {{ content: "{quoted}" !important; color: #b00020 !important; '
        'font: bold 16pt "HCS Sans", "HCS Fallback" !important; }'
    )


def check_author_css(css: str) -> str:
    """Authors style letters but cannot bring fonts or imports (the brand supplies them)."""
    if _FONT_FACE.search(css):
        raise InvalidContent("letter CSS may not use @font-face or @import; use the brand fonts")
    return css


def compose(settings: LetterSettings, content: LetterContent, address: Sequence[str]) -> str:
    """The whole HTML document: the address window first, then the author's body."""
    if not any(line.strip() for line in address):
        raise InvalidContent("a letter needs a postal address")
    if len(content.html) + len(content.css) > settings.max_html_chars:
        raise InvalidContent(f"the letter is over {settings.max_html_chars:,} characters")
    if _FONT_FACE.search(content.html):
        raise InvalidContent("letter HTML may not use @font-face or @import; use the brand fonts")
    check_author_css(content.css)
    lines = "<br>".join(html.escape(line) for line in address if line.strip())
    back = settings.return_address
    returning = f'<div class="hcs-return">{html.escape(back)}</div>' if back else ""
    return (
        f'<!DOCTYPE html><html lang="{html.escape(settings.language)}"><head>'
        f'<meta charset="utf-8"><title>Letter</title>{style_element(content.css)}</head><body>'
        f'<div class="hcs-window">{returning}<div class="hcs-address">{lines}</div></div>'
        f'<div class="hcs-after-window"></div>{content.html}</body></html>'
    )
