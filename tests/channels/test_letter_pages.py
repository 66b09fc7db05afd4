"""A letter's PDF as page images: how many, how large, in colour only where there is colour."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from channels.letter import LetterRenderError
from channels.letter.pages import SHOWN_PAGES, page_images
from tests.channels.letter_support import ADDRESS, BODY, channel


def _pdf(renderers: dict[str, Any], html: str, name: str = "a4") -> bytes:
    from channels.letter import LetterContent

    return channel(renderers, name).prepare(LetterContent(html), ADDRESS, reference="p").pdf


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_each_page_becomes_a_png_at_screen_resolution(letter_renderers: dict[str, Any]) -> None:
    shown = page_images(_pdf(letter_renderers, BODY))
    assert shown.total == 1 and shown.hidden == 0
    page = shown.pages[0]
    image = _image(page.png)
    assert image.format == "PNG" and image.size == (page.width, page.height) == (827, 1170)
    assert image.convert("L").getextrema()[0] < 60  # there is ink on the page: the text
    assert page.data_url.startswith("data:image/png;base64,iVBOR")


def test_us_letter_paper_keeps_its_own_shape(letter_renderers: dict[str, Any]) -> None:
    page = page_images(_pdf(letter_renderers, BODY, "letter")).pages[0]
    assert (page.width, page.height) == (850, 1100)


def test_a_black_and_white_page_is_greyscale_and_a_coloured_one_keeps_its_colour(
    letter_renderers: dict[str, Any],
) -> None:
    plain = page_images(_pdf(letter_renderers, "<p>Only black text.</p>")).pages[0]
    coloured = page_images(_pdf(letter_renderers, BODY)).pages[0]  # a navy logo
    assert _image(plain.png).mode == "L"
    image = _image(coloured.png).convert("RGB")
    assert image.mode == "RGB" and (0, 0, 128) in {c for _, c in image.getcolors(1 << 16) or []}


def test_only_the_first_pages_are_rasterized_and_the_rest_are_counted(
    letter_renderers: dict[str, Any],
) -> None:
    breaks = '<p style="break-after: page">Page</p>' * (SHOWN_PAGES + 2)
    shown = page_images(_pdf(letter_renderers, breaks, "quick"))
    assert shown.total == SHOWN_PAGES + 2
    assert len(shown.pages) == SHOWN_PAGES and shown.hidden == 2
    assert len(page_images(_pdf(letter_renderers, breaks, "quick"), limit=3).pages) == 3


def test_a_lower_resolution_gives_smaller_pages(letter_renderers: dict[str, Any]) -> None:
    page = page_images(_pdf(letter_renderers, BODY), dpi=50).pages[0]
    assert (page.width, page.height) == (414, 585)


def test_something_that_is_not_a_pdf_is_an_error_not_an_empty_letter() -> None:
    with pytest.raises(LetterRenderError) as raised:
        page_images(b"%PDF-1.7 this is not really a PDF")
    assert raised.value.code == "unreadable_pdf"
