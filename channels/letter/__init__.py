"""Letters: WeasyPrint PDFs with a window address, brand fonts and PDF/A; nothing fetched."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from channels.core import Issue, Preview, SendResult, error, warning
from channels.errors import InvalidContent
from channels.letter.engine import LetterRenderError, RenderedPdf
from channels.letter.folder import FolderLetter
from channels.letter.isolation import LetterRenderer
from channels.letter.layout import LetterContent, LetterSettings, compose
from channels.letter.outbox import OutboxLetter
from channels.letter.pages import PageImages, page_images
from channels.letter.prepared import PreparedLetter

__all__ = [
    "LETTER_PROVIDERS",
    "LetterChannel",
    "LetterContent",
    "LetterProvider",
    "LetterRenderError",
    "LetterRenderer",
    "LetterSettings",
    "PageImages",
    "PreparedLetter",
    "RenderedPdf",
    "SAMPLE_ADDRESS",
    "compose",
    "page_images",
]

SAMPLE_ADDRESS = ("Ana Example", "1 Sample Street", "London N1 1AA", "United Kingdom")


class LetterProvider(Protocol):
    """Something that delivers a finished letter (a folder, a print house)."""

    name: str

    def send(self, prepared: PreparedLetter) -> SendResult:
        """Deliver one letter."""
        ...


LETTER_PROVIDERS: dict[str, type[LetterProvider]] = {
    "outbox": OutboxLetter,
    "folder": FolderLetter,
}


class LetterChannel:
    """The letter channel: settings, one renderer process, one provider."""

    def __init__(
        self,
        settings: LetterSettings,
        provider: LetterProvider,
        renderer: LetterRenderer | None = None,
    ) -> None:
        self.settings = settings
        self.provider = provider
        self.renderer = renderer or LetterRenderer(settings)

    def prepare(
        self, content: LetterContent, address: Sequence[str], *, reference: str
    ) -> PreparedLetter:
        """Render the complete PDF (no I/O besides the renderer process); raises on any failure."""
        rendered = self.renderer.render(compose(self.settings, content, address), content.css)
        return PreparedLetter(
            reference=reference,
            address=tuple(line for line in address if line.strip()),
            pdf=rendered.pdf,
            pages=rendered.pages,
            page_size=self.settings.page_size,
            pdf_variant=self.settings.pdf_variant,
            warnings=rendered.warnings,
        )

    def preview(self, content: LetterContent, address: Sequence[str] = SAMPLE_ADDRESS) -> Preview:
        """The PDF (None when it cannot be rendered) and its page count, with the issues."""
        try:
            prepared = self.prepare(content, address, reference="preview")
        except LetterRenderError as exc:
            return Preview({"pdf": None, "pages": 0}, (error(exc.code, str(exc), "html"),))
        except InvalidContent as exc:
            issue = error("invalid_letter", str(exc), "html")
            return Preview({"pdf": None, "pages": 0}, (issue,))
        issues = tuple(warning("layout_warning", text, "css") for text in prepared.warnings)
        return Preview({"pdf": prepared.pdf, "pages": prepared.pages}, issues)

    def validate(
        self, content: LetterContent, address: Sequence[str] = SAMPLE_ADDRESS
    ) -> list[Issue]:
        """Render with a sample address and report what stops or worries the letter."""
        return list(self.preview(content, address).issues)

    def send(self, prepared: PreparedLetter) -> SendResult:
        """Deliver through the configured provider."""
        return self.provider.send(prepared)

    def close(self) -> None:
        """Stop the renderer process."""
        self.renderer.close()
