"""A letter's PDF as page images, for people to read on screen (previews and the archive).

PDFium is not thread-safe, not even across documents: every call into it holds one lock per
process. Only rasterizing holds it (about a millisecond a page); encoding happens outside.
"""

from __future__ import annotations

import base64
import io
import threading
from dataclasses import dataclass

import pypdfium2 as pdfium  # type: ignore[import-untyped]
from PIL import Image, ImageChops

from channels.letter.engine import LetterRenderError

SCREEN_DPI = 100
SHOWN_PAGES = 10
# Whatever size a page claims, its image stays within this many pixels a side.
MAX_SIDE_PIXELS = 2400
_POINTS_PER_INCH = 72
_PDFIUM = threading.Lock()


@dataclass(frozen=True)
class PageImage:
    """One page as a PNG image."""

    png: bytes
    width: int
    height: int

    @property
    def data_url(self) -> str:
        """The image as a `data:` URL, for a frame whose policy allows `img-src data:`."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class PageImages:
    """The first pages of a PDF as images, and how many pages it has in all."""

    pages: tuple[PageImage, ...]
    total: int

    @property
    def hidden(self) -> int:
        """How many pages are not shown."""
        return self.total - len(self.pages)


def _rasterize(document: pdfium.PdfDocument, index: int, dpi: float) -> Image.Image:
    page = document[index]
    try:
        width, height = page.get_size()
        scale = min(dpi / _POINTS_PER_INCH, MAX_SIDE_PIXELS / max(width, height, 1))
        bitmap = page.render(scale=scale, rev_byteorder=True)
        try:  # a copy: the bitmap's memory is PDFium's, freed when it closes
            size = (bitmap.width, bitmap.height)
            return Image.frombytes("RGB", size, bitmap.buffer, "raw", bitmap.mode, bitmap.stride)
        finally:
            bitmap.close()
    finally:
        page.close()


def _png(image: Image.Image) -> PageImage:
    # Most letter pages are black on white: as greyscale they encode about three times faster.
    red, green, blue = image.split()
    if (
        not ImageChops.difference(red, green).getbbox()
        and not ImageChops.difference(green, blue).getbbox()
    ):
        image = red
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return PageImage(buffer.getvalue(), image.width, image.height)


def page_images(pdf: bytes, *, dpi: float = SCREEN_DPI, limit: int = SHOWN_PAGES) -> PageImages:
    """The first `limit` pages of `pdf` as PNG images at `dpi`; LetterRenderError if unreadable."""
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(pdf)
            try:
                total = len(document)
                images = [_rasterize(document, i, dpi) for i in range(min(total, limit))]
            finally:
                document.close()
        except pdfium.PdfiumError as exc:
            raise LetterRenderError("unreadable_pdf", f"the PDF cannot be read: {exc}") from None
    return PageImages(tuple(_png(image) for image in images), total)
