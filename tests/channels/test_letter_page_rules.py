"""The platform's page rules win over the author's: page size, margins, footer, address window."""

from __future__ import annotations

from typing import Any

import pytest

from channels.letter import LetterContent, LetterSettings
from channels.letter.engine import LetterRenderError, PdfEngine, check_page_size
from channels.letter.layout import compose
from tests.channels.letter_support import ADDRESS, BODY, reader, render, text_positions

MM = 72 / 25.4
HUGE = "size: 100000in 100000in"
HOSTILE = {
    "plain @page": ("", f"@page {{ {HUGE} }}"),
    "important": ("", f"@page {{ {HUGE} !important; margin: 0 !important }}"),
    ":first": ("", f"@page :first {{ {HUGE} !important }}"),
    "stacked pseudo-classes": ("", f"@page :first:left:right {{ {HUGE} !important }}"),
    "named page": ("", f"@page big {{ {HUGE} }} body, p {{ page: big !important }}"),
    "nested in @media": ("", f"@media print {{ @page {{ {HUGE} !important }} }}"),
    "<style> in the body": (f"<style>@page {{ {HUGE} !important }}</style>", ""),
    "style attribute": ('<p style="page: big">x</p><style>@page big { size: 2000mm }</style>', ""),
}


@pytest.mark.parametrize("html, css", HOSTILE.values(), ids=list(HOSTILE))
def test_the_author_cannot_change_the_page_size(letter_renderers: Any, html: str, css: str) -> None:
    pdf = render(letter_renderers, "a4", BODY + html, css)
    for page in reader(pdf).pages:
        assert round(float(page.mediabox.width) / MM) == 210
        assert round(float(page.mediabox.height) / MM) == 297


@pytest.mark.parametrize(
    "css",
    [
        "body div.hcs-window.hcs-window { top: 200mm !important; left: 100mm !important }",
        "html body > div[class~=hcs-window] { position: static !important; top: 200mm !important }",
    ],
)
def test_more_specific_author_rules_cannot_move_the_address_window(
    letter_renderers: Any, css: str
) -> None:
    pdf = render(letter_renderers, "a4", BODY, css)
    x, y = text_positions(pdf)["Ana Example"]
    assert 19 * MM < x < 22 * MM and 45 * MM < y < 90 * MM


def test_the_author_cannot_replace_the_footer_or_write_in_the_margins(
    letter_renderers: Any,
) -> None:
    css = (
        "@page { margin: 0 !important; @bottom-right { content: 'forged' !important } "
        "@top-left { content: 'forged too' } }"
    )
    html = "<style>@page :first { @bottom-left { content: 'forged three' !important } }</style>"
    pdf = render(letter_renderers, "a4", BODY + html, css)
    text = reader(pdf).pages[0].extract_text()
    assert "forged" not in text
    assert "Page 1 of 1" in text
    x, _ = text_positions(pdf)["Your annual statement"]
    assert x > 19 * MM  # the left margin holds


def test_a_pdf_whose_page_size_differs_from_the_configured_one_is_refused() -> None:
    engine = PdfEngine(LetterSettings(page_size="Letter"))
    document = compose(engine.settings, LetterContent("<p>Dear Ana</p>"), ADDRESS)
    letter = engine.render(document, "").pdf
    check_page_size(letter, LetterSettings(page_size="Letter"))
    with pytest.raises(LetterRenderError) as caught:
        check_page_size(letter, LetterSettings(page_size="A4"))
    assert caught.value.code == "wrong_page_size"
