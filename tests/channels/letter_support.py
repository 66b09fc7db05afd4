"""Shared letter settings and PDF readers for the letter tests."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from channels.letter import LetterChannel, LetterContent, LetterRenderer, LetterSettings
from channels.letter.outbox import OutboxLetter
from tests.support.factories import png

LOGO = png(240, 80)
ADDRESS = ("Ana Example", "1 Main Street", "London N1 1AA")
SETTINGS = {
    "a4": LetterSettings(brand_assets={"logo.png": LOGO}, return_address="Acme Ltd, 1 High St"),
    "letter": LetterSettings(page_size="Letter", brand_assets={"logo.png": LOGO}),
    "pdfa": LetterSettings(pdf_variant="pdf/a-3b", brand_assets={"logo.png": LOGO}),
    "strict": LetterSettings(
        brand_assets={"logo.png": LOGO, "big.png": png(1200, 1000), "terms.txt": b"terms"},
        max_image_pixels=1_000_000,
        max_data_url_bytes=2_000,
    ),
    "quick": LetterSettings(timeout_seconds=2.0, max_html_chars=2_000_000, max_pages=5000),
    "recycled": LetterSettings(recycle_after=2),
}
BODY = (
    '<img class="logo" src="logo.png" alt="Acme"><h1>Your annual statement</h1>'
    "<p>Dear Ana, thank you for being with us. Grüße, ça va, ĳ ✓.</p>"
)


def channel(renderers: dict[str, Any], name: str, directory: str = "/tmp") -> LetterChannel:
    settings = SETTINGS[name]
    if name not in renderers:
        renderers[name] = LetterRenderer(settings)
    return LetterChannel(settings, OutboxLetter(directory), renderers[name])


def render(renderers: dict[str, Any], name: str, html: str = BODY, css: str = "") -> bytes:
    return channel(renderers, name).prepare(LetterContent(html, css), ADDRESS, reference="t").pdf


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text_positions(pdf: bytes, page: int = 0) -> dict[str, tuple[float, float]]:
    """Each text run's (x from the left, y from the top) in points."""
    pdf_page = reader(pdf).pages[page]
    height = float(pdf_page.mediabox.height)
    found: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: list[float], tm: list[float], *_: Any) -> None:
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if text.strip():
            found.setdefault(text.strip(), (x, height - y))

    pdf_page.extract_text(visitor_text=visit)
    return found


def embedded_fonts(pdf: bytes) -> set[str]:
    """Base names of the fonts whose programs are embedded."""
    names: set[str] = set()
    for page in reader(pdf).pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target["/FontDescriptor"].get_object()
            if any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                names.add(str(target["/BaseFont"]).split("+", 1)[-1])
    return names
