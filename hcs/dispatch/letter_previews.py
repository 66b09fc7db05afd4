"""Letters shown as the pages of their PDF: a rendered version's, or an archived one's."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from channels.errors import InvalidContent
from channels.letter import SAMPLE_ADDRESS, LetterContent, PageImages, compose, page_images
from hcs.channels.letter import brand_letter, letter_settings
from hcs.infrastructure.config import Settings
from templates_store.composing import Rendered
from templates_store.lookup import get_version

# An author waits for the preview: a letter that takes longer is reported, not waited for.
PREVIEW_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class LetterPages:
    """A letter's first pages as images, or why it has none to show."""

    images: PageImages | None = None
    problem: str = ""
    warnings: tuple[str, ...] = ()


def preview_pages(session: Session, rendered: Rendered, settings: Settings) -> LetterPages:
    """Render a letter's PDF as it will be printed (to a sample address) and show its pages.

    The PDF comes from the brand's preview renderer process, with the same fetcher, bounds and
    paper as letters that are sent; any failure is the problem shown, never a partial letter.
    """
    version = get_version(session, rendered.template, rendered.version)
    paper = replace(
        letter_settings(settings, {}, rendered.locale), timeout_seconds=PREVIEW_TIMEOUT_SECONDS
    )
    paper, renderer = brand_letter(session, version, paper, purpose="preview")
    content = LetterContent(rendered.parts["html"], rendered.parts.get("css", ""))
    try:
        pdf = renderer.render(compose(paper, content, SAMPLE_ADDRESS), content.css)
        return LetterPages(page_images(pdf.pdf), warnings=pdf.warnings)
    except InvalidContent as exc:  # LetterRenderError included
        return LetterPages(problem=str(exc))


def archived_pages(pdf: bytes) -> LetterPages:
    """The pages of an archived letter, exactly as it was sent."""
    try:
        return LetterPages(page_images(pdf))
    except InvalidContent as exc:
        return LetterPages(problem=str(exc))
