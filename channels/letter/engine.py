"""The in-process PDF engine: one FontConfiguration and one base stylesheet per worker."""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass

from pypdf import PdfReader
from weasyprint import CSS, HTML  # type: ignore[import-untyped]
from weasyprint.pdf import VARIANTS  # type: ignore[import-untyped]
from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]

from channels.errors import ChannelError, InvalidContent
from channels.letter.fetcher import ASSET_BASE, AssetFetcher, RefusedResource, packaged_assets
from channels.letter.layout import (
    LetterSettings,
    base_stylesheet,
    check_author_css,
    locked_stylesheet,
    page_format,
)

_LOGGER = logging.getLogger("weasyprint")
#: each paper size in PDF points (1/72 in), portrait
PAGE_POINTS = {"a4": (210 * 72 / 25.4, 297 * 72 / 25.4), "letter": (612.0, 792.0)}


class LetterRenderError(InvalidContent):
    """A letter could not be rendered completely; no PDF is produced."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, reason=code)
        self.code = code


@dataclass(frozen=True)
class RenderedPdf:
    """A complete PDF, its page count and the layout engine's warnings."""

    pdf: bytes
    pages: int
    warnings: tuple[str, ...] = ()


class _Collector(logging.Handler):
    """Collects WeasyPrint's log records of one render, in this thread only."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            target = self.errors if record.levelno >= logging.ERROR else self.warnings
            target.append(record.getMessage()[:300])


def check_settings(settings: LetterSettings) -> LetterSettings:
    """Refuse an unknown paper size or PDF variant before any letter is rendered."""
    page_format(settings)
    if settings.pdf_variant is not None and settings.pdf_variant not in VARIANTS:
        known = ", ".join(sorted(v for v in VARIANTS if v.startswith("pdf/a")))
        raise ChannelError(f"unknown PDF variant {settings.pdf_variant!r} (PDF/A: {known})")
    return settings


def check_page_size(pdf: bytes, settings: LetterSettings) -> None:
    """Refuse a PDF any of whose pages is not the configured paper size (to half a point)."""
    width, height = PAGE_POINTS[page_format(settings).size.lower()]
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages, start=1):
        box = page.mediabox
        if abs(float(box.width) - width) > 0.5 or abs(float(box.height) - height) > 0.5:
            size = f"{float(box.width):.0f} x {float(box.height):.0f} pt"
            message = f"page {number} is {size}, not {settings.page_size}"
            raise LetterRenderError("wrong_page_size", message)


class PdfEngine:
    """Renders composed letters; reuse one per worker so memory stays flat."""

    def __init__(self, settings: LetterSettings) -> None:
        self.settings = settings
        self.font_config = FontConfiguration()
        self.fetcher = AssetFetcher(
            {**packaged_assets(), **settings.brand_assets},
            max_data_url_bytes=settings.max_data_url_bytes,
            max_image_pixels=settings.max_image_pixels,
        )
        self.base_css = self._css(base_stylesheet(settings))
        self.locked_css = self._css(locked_stylesheet(settings))

    def _css(self, text: str) -> CSS:
        return CSS(
            string=text, base_url=ASSET_BASE, url_fetcher=self.fetcher, font_config=self.font_config
        )

    def _write(self, document_html: str, author_css: str) -> tuple[bytes, int]:
        html = HTML(string=document_html, base_url=ASSET_BASE, url_fetcher=self.fetcher)
        # The author's CSS is in the document (author origin, `compose`); the locked sheet's
        # `!important` rules (user origin) outrank it, so the page box and the window hold.
        check_author_css(author_css)
        stylesheets = [self.base_css, self.locked_css]
        document = html.render(font_config=self.font_config, stylesheets=stylesheets)
        if len(document.pages) > self.settings.max_pages:
            pages, limit = len(document.pages), self.settings.max_pages
            message = f"the letter has {pages} pages; at most {limit}"
            raise LetterRenderError("too_many_pages", message)
        # Nothing a letter names is ever attached to the PDF.
        document.metadata.attachments = []
        for page in document.pages:
            page.links = [link for link in page.links if link[0] != "attachment"]
        pdf = bytes(document.write_pdf(pdf_variant=self.settings.pdf_variant))
        check_page_size(pdf, self.settings)
        return pdf, len(document.pages)

    def render(self, document_html: str, author_css: str) -> RenderedPdf:
        """A complete PDF, or LetterRenderError: never a blank or partial letter."""
        collector = _Collector()
        _LOGGER.addHandler(collector)
        try:
            pdf, pages = self._write(document_html, author_css)
        except RefusedResource as exc:
            raise LetterRenderError("refused_resource", str(exc)) from None
        except InvalidContent as exc:
            raise LetterRenderError("invalid_letter", str(exc)) from exc
        except (Exception, RecursionError) as exc:
            raise LetterRenderError("layout_failed", f"layout failed: {exc!r}"[:300]) from exc
        finally:
            _LOGGER.removeHandler(collector)
        if collector.errors:
            raise LetterRenderError("resource_failed", "; ".join(collector.errors))
        return RenderedPdf(pdf, pages, tuple(collector.warnings))
