"""Letters rendered and read back: pages, text, address window, fonts, logo, PDF/A, providers."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from channels.core import Level
from channels.letter import LetterContent
from channels.letter.folder import FolderLetter
from tests.channels.letter_support import (
    ADDRESS,
    BODY,
    channel,
    embedded_fonts,
    reader,
    render,
    text_positions,
)

MM = 72 / 25.4


def test_an_a4_letter_has_the_address_in_the_din_5008_window(letter_renderers: Any) -> None:
    pdf = render(letter_renderers, "a4")
    document = reader(pdf)
    assert len(document.pages) == 1
    box = document.pages[0].mediabox
    assert (round(float(box.width) / MM), round(float(box.height) / MM)) == (210, 297)
    text = document.pages[0].extract_text()
    for line in (*ADDRESS, "Acme Ltd, 1 High St", "Your annual statement", "Grüße", "Page 1 of 1"):
        assert line in text
    positions = text_positions(pdf)
    for line in ADDRESS:
        x, y = positions[line]
        assert 19 * MM < x < 22 * MM  # 20 mm from the left edge
        assert 45 * MM < y < 90 * MM  # inside the 45 mm x 85 mm window
    assert positions["Your annual statement"][1] > 90 * MM


def test_a_us_letter_puts_the_address_in_a_number_10_window(letter_renderers: Any) -> None:
    pdf = render(letter_renderers, "letter")
    box = reader(pdf).pages[0].mediabox
    assert (float(box.width), float(box.height)) == (612, 792)
    for line in ADDRESS:
        x, y = text_positions(pdf)[line]
        assert 0.85 * 72 < x < 0.95 * 72
        assert 2 * 72 < y < 3.125 * 72


def test_long_letters_are_numbered_page_x_of_n(letter_renderers: Any) -> None:
    body = BODY + "<p>Paragraph of the statement.</p>" * 120
    document = reader(render(letter_renderers, "a4", body))
    pages = len(document.pages)
    assert pages >= 3
    assert f"Page 2 of {pages}" in document.pages[1].extract_text()
    assert "Ana Example" not in document.pages[1].extract_text()


def test_the_brand_fonts_are_embedded(letter_renderers: Any) -> None:
    fonts = embedded_fonts(render(letter_renderers, "a4", BODY + "<p><b>Bold</b> and ✓</p>"))
    # Named after the @font-face families backed by the packaged files, not system fonts;
    # ✓ is not in Liberation, so the packaged DejaVu fallback is embedded too.
    assert fonts == {"HCS-Sans", "HCS-Sans-Bold", "HCS-Fallback"}


def test_the_logo_is_embedded_as_an_image(letter_renderers: Any) -> None:
    images = reader(render(letter_renderers, "a4")).pages[0].images
    assert [(image.image.width, image.image.height) for image in images] == [(240, 80)]


def test_the_archive_variant_is_identified_as_pdf_a_3b(letter_renderers: Any) -> None:
    document = reader(render(letter_renderers, "pdfa"))
    xmp = document.xmp_metadata
    assert xmp is not None
    rdf = xmp.rdf_root.toxml()
    assert "pdfaid" in rdf
    assert xmp.get_element("", "http://www.aiim.org/pdfa/ns/id/", "part")  # type: ignore[arg-type]
    description = rdf.replace(" ", "")
    assert 'pdfaid:part="3"' in description or "<pdfaid:part>3</pdfaid:part>" in description
    assert 'pdfaid:conformance="B"' in description or ">B</pdfaid:conformance>" in description
    assert "/OutputIntents" in document.trailer["/Root"]


def test_the_author_cannot_move_the_address_window(letter_renderers: Any) -> None:
    css = ".hcs-window { top: 200mm !important; left: 100mm !important } @page { size: A5 }"
    pdf = render(letter_renderers, "a4", BODY, css)
    box = reader(pdf).pages[0].mediabox
    assert round(float(box.width) / MM) == 210
    x, y = text_positions(pdf)["Ana Example"]
    assert 19 * MM < x < 22 * MM and 45 * MM < y < 90 * MM


def test_validation_shows_css_the_engine_ignored_as_warnings(letter_renderers: Any) -> None:
    issues = channel(letter_renderers, "a4").validate(LetterContent(BODY, "p { colour: red }"))
    assert [(i.level, i.code) for i in issues] == [(Level.WARNING, "layout_warning")]
    assert "colour" in issues[0].message


def test_the_outbox_writes_one_pdf_per_letter(letter_renderers: Any, tmp_path: Path) -> None:
    letters = channel(letter_renderers, "a4", str(tmp_path))
    prepared = letters.prepare(LetterContent(BODY), ADDRESS, reference="l-1")
    result = letters.send(prepared)
    assert result.message_id == "l-1"
    assert (tmp_path / "letters" / "l-1.pdf").read_bytes() == prepared.pdf
    assert prepared.pdf.startswith(b"%PDF-")


def test_the_folder_provider_drops_letters_with_a_manifest(
    letter_renderers: Any, tmp_path: Path
) -> None:
    letters = channel(letter_renderers, "a4")
    folder = FolderLetter(tmp_path, product="statement")
    for n in range(2):
        prepared = letters.prepare(LetterContent(BODY), ADDRESS, reference=f"l-{n}")
        assert folder.send(prepared).message_id == f"l-{n}.pdf"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "l-0.json",
        "l-0.pdf",
        "l-1.json",
        "l-1.pdf",
    ]
    lines = [json.loads((tmp_path / f"l-{n}.json").read_text()) for n in range(2)]
    assert [line["file"] for line in lines] == ["l-0.pdf", "l-1.pdf"]
    assert lines[0]["written_by"] == f"{socket.gethostname()}-{os.getpid()}"
    assert lines[0] | {"sha256": None, "written_by": None} == {
        "file": "l-0.pdf",
        "reference": "l-0",
        "sha256": None,
        "pages": 1,
        "page_size": "A4",
        "pdf_variant": None,
        "address": list(ADDRESS),
        "product": "statement",
        "written_by": None,
    }

    assert lines[1]["sha256"] == hashlib.sha256((tmp_path / "l-1.pdf").read_bytes()).hexdigest()


@pytest.mark.parametrize("address", [(), ("", "  ")])
def test_a_letter_without_an_address_is_refused(letter_renderers: Any, address: Any) -> None:
    from channels.errors import InvalidContent

    with pytest.raises(InvalidContent):
        channel(letter_renderers, "a4").prepare(LetterContent(BODY), address, reference="x")


def test_a_brand_font_passed_in_as_bytes_is_embedded(letter_renderers: Any) -> None:
    from channels.letter import LetterRenderer, LetterSettings
    from channels.letter.fetcher import packaged_assets

    settings = LetterSettings(
        brand_assets={"brand/face.ttf": packaged_assets()["fonts/LiberationSans-Bold.ttf"]},
        brand_css='@font-face { font-family: "Brand Face"; src: url(brand/face.ttf) }'
        " h1 { font-family: 'Brand Face' }",
    )
    if "brand" not in letter_renderers:
        letter_renderers["brand"] = LetterRenderer(settings)
    from channels.letter import LetterChannel
    from channels.letter.outbox import OutboxLetter

    letters = LetterChannel(settings, OutboxLetter("/tmp"), letter_renderers["brand"])
    pdf = letters.prepare(LetterContent("<h1>Brand</h1><p>Body</p>"), ADDRESS, reference="b").pdf
    # h1 is bold, and the bold face (passed in as bytes) is what is embedded for it.
    assert "Brand-Face-Bold" in embedded_fonts(pdf)


def test_unknown_paper_or_pdf_variants_are_refused_up_front() -> None:
    from channels.errors import ChannelError
    from channels.letter import LetterRenderer, LetterSettings

    with pytest.raises(ChannelError, match="page size"):
        LetterRenderer(LetterSettings(page_size="A3"))
    with pytest.raises(ChannelError, match="pdf/a-3b"):
        LetterRenderer(LetterSettings(pdf_variant="pdf/a-9z"))


def test_two_worker_processes_share_one_folder_without_interleaving(tmp_path: Path) -> None:
    count = 25
    command = [sys.executable, "-m", "tests.support.letter_writer", str(tmp_path)]
    writers = [subprocess.Popen([*command, name, str(count)]) for name in ("a", "b")]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    names = sorted(p.name for p in tmp_path.iterdir())
    expected = sorted(
        f"{w}-{n}.{kind}" for w in "ab" for n in range(count) for kind in ("json", "pdf")
    )
    assert names == expected  # no temporary file left, no shared manifest
    for manifest in tmp_path.glob("*.json"):
        record = json.loads(manifest.read_text())
        pdf = (tmp_path / record["file"]).read_bytes()
        assert pdf.startswith(b"%PDF-") and pdf.endswith(b"%%EOF\n")
        assert hashlib.sha256(pdf).hexdigest() == record["sha256"]
    written_by = {json.loads(p.read_text())["written_by"] for p in tmp_path.glob("*.json")}
    assert len(written_by) == 2
