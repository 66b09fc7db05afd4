"""Letters fetch nothing and fail closed: refused URLs, size and pixel bounds, crashes, time."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from channels.letter import LetterContent, LetterRenderError
from channels.letter.engine import PdfEngine
from channels.letter.fetcher import AssetFetcher, RefusedResource
from channels.letter.layout import compose
from tests.channels.letter_support import ADDRESS, BODY, SETTINGS, channel, reader, render
from tests.support.factories import png

_SEEN: list[tuple[str, tuple[Any, ...]]] = []
_WATCHING = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WATCHING and event in ("open", "socket.connect", "urllib.Request", "socket.getaddrinfo"):
        _SEEN.append((event, args))


sys.addaudithook(_audit)


@pytest.fixture
def audit() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Every file open and network connection the test's code makes, seen by an audit hook."""
    global _WATCHING
    _SEEN.clear()
    _WATCHING = True
    yield _SEEN
    _WATCHING = False


@pytest.fixture(scope="module")
def engine() -> PdfEngine:
    """An in-process engine, so the audit hook sees what rendering touches."""
    return PdfEngine(SETTINGS["strict"])


def hostile(port: int) -> list[tuple[str, str]]:
    url = f"http://127.0.0.1:{port}/"
    return [
        ('<img src="file:///etc/passwd" alt="x">', ""),
        ('<link rel="stylesheet" href="file:///etc/passwd">', ""),
        ("<p>x</p>", "p { background: url(file:///etc/passwd) }"),
        (f'<img src="{url}logo.png" alt="x">', ""),
        (f'<link rel="stylesheet" href="{url}style.css">', ""),
        ("<p>x</p>", f"p {{ background: url({url}bg.png) }}"),
        (f'<object data="{url}x.svg"></object>', ""),
        (f'<svg><image href="{url}x.png" width="10" height="10"/></svg>', ""),
        ('<img src="../../../../etc/passwd" alt="x">', ""),
        ('<img src="https://assets.hcs.invalid/../../etc/passwd" alt="x">', ""),
    ]


def test_hostile_urls_are_refused_in_process_without_opening_or_connecting(
    engine: PdfEngine, loopback: HTTPServer, audit: list[tuple[str, tuple[Any, ...]]]
) -> None:
    for html, css in hostile(loopback.port):
        document = compose(SETTINGS["strict"], LetterContent(html, css), ADDRESS)
        with pytest.raises(LetterRenderError) as caught:
            engine.render(document, css)
        # Inline SVG swallows the refusal and logs it: still an error, as resource_failed.
        assert caught.value.code in ("refused_resource", "resource_failed"), (html, css)
    assert not [args for event, args in audit if "passwd" in str(args)]
    assert not [args for event, args in audit if event != "open"]
    assert loopback.log == []


def test_hostile_urls_are_refused_by_the_renderer_process_and_the_server_sees_nothing(
    letter_renderers: Any, loopback: HTTPServer
) -> None:
    letters = channel(letter_renderers, "strict")
    for html, css in hostile(loopback.port):
        issues = letters.validate(LetterContent(html, css))
        assert [i.level for i in issues] == ["error"], html
        assert issues[0].code in ("refused_resource", "resource_failed"), html
    assert loopback.log == []


def test_the_fetcher_refuses_every_scheme_but_its_own() -> None:
    fetcher = AssetFetcher({"a.txt": b"a"}, max_data_url_bytes=100, max_image_pixels=10)
    for url in (
        "file:///etc/passwd",
        "http://127.0.0.1/",
        "https://example.com/a.txt",
        "ftp://x/",
        "https://assets.hcs.invalid/b.txt",
        "jar:file:///x!/y",
    ):
        with pytest.raises(RefusedResource):
            fetcher.fetch(url)
    assert fetcher.fetch("https://assets.hcs.invalid/a.txt").read() == b"a"


def test_a_small_data_url_image_is_allowed_and_a_large_one_refused(letter_renderers: Any) -> None:
    small = "data:image/png;base64," + base64.b64encode(png(20, 20)).decode()
    pdf = render(letter_renderers, "strict", f'<img src="{small}" alt="dot"><p>ok</p>')
    assert len(reader(pdf).pages[0].images) == 1
    large = "data:text/css," + "p{}" * 1000
    issues = channel(letter_renderers, "strict").validate(
        LetterContent(f'<link rel="stylesheet" href="{large}"><p>x</p>')
    )
    assert [i.code for i in issues] == ["refused_resource"]
    assert "data: URL over 2000 bytes" in issues[0].message


def test_an_image_over_the_pixel_bound_is_an_error_not_a_blank_letter(
    letter_renderers: Any,
) -> None:
    issues = channel(letter_renderers, "strict").validate(
        LetterContent('<img src="big.png" alt="big"><p>Statement</p>')
    )
    assert [i.code for i in issues] == ["refused_resource"]
    assert "1,200,000 pixels" in issues[0].message


def test_a_missing_asset_is_an_error(letter_renderers: Any) -> None:
    issues = channel(letter_renderers, "strict").validate(
        LetterContent('<img src="missing.png" alt="m">')
    )
    assert [i.code for i in issues] == ["refused_resource"]


def test_a_broken_image_is_an_error_not_a_hole(letter_renderers: Any) -> None:
    broken = "data:image/png;base64," + base64.b64encode(b"\x89PNG not really").decode()
    issues = channel(letter_renderers, "strict").validate(
        LetterContent(f'<img src="{broken}" alt="x"><p>Statement</p>')
    )
    assert [i.code for i in issues] == ["resource_failed"]


@pytest.mark.parametrize(
    "html, css",
    [('<p style="font-size: 1e7px">x</p>', ""), ("<p>x</p>", "p { font-size: 1e7px }")],
)
def test_css_that_crashes_the_layout_engine_is_an_error(
    letter_renderers: Any, html: str, css: str
) -> None:
    issues = channel(letter_renderers, "strict").validate(LetterContent(html, css))
    assert [i.code for i in issues] == ["layout_failed"]
    assert "ZeroDivisionError" in issues[0].message


def test_nothing_a_letter_names_is_ever_attached(letter_renderers: Any) -> None:
    html = (
        '<link rel="attachment" href="terms.txt" title="terms">'
        '<p><a rel="attachment" href="terms.txt">terms</a></p>'
        '<link rel="attachment" href="file:///etc/passwd">'
    )
    pdf = render(letter_renderers, "strict", html)
    document = reader(pdf)
    assert (
        "/Names" not in document.trailer["/Root"]
        or "/EmbeddedFiles" not in (document.trailer["/Root"]["/Names"])
    )
    annotations = document.pages[0].get("/Annots") or []
    assert all(a.get_object()["/Subtype"] != "/FileAttachment" for a in annotations)
    assert b"terms" not in pdf.replace(b"terms</a>", b"")


def test_fonts_and_imports_cannot_be_brought_in_by_the_author(letter_renderers: Any) -> None:
    letters = channel(letter_renderers, "strict")
    for css in ("@font-face { font-family: X; src: url(big.png) }", "@import url(x.css);"):
        assert [i.code for i in letters.validate(LetterContent(BODY, css))] == ["invalid_letter"]
    html = "<style>@font-face { font-family: X; src: url(logo.png) }</style><p>x</p>"
    assert [i.code for i in letters.validate(LetterContent(html))] == ["invalid_letter"]


def test_a_render_over_its_time_bound_is_stopped_and_the_next_letter_renders(
    letter_renderers: Any,
) -> None:
    letters = channel(letter_renderers, "quick")
    first = letters.renderer.worker_pid
    with pytest.raises(LetterRenderError) as caught:
        letters.prepare(LetterContent("<p>slow paragraph</p>" * 40_000), ADDRESS, reference="s")
    assert caught.value.code == "render_timeout"
    assert letters.renderer.worker_pid is None or letters.renderer.worker_pid != first
    pdf = letters.prepare(LetterContent(BODY.replace("logo.png", "")), ADDRESS, reference="ok").pdf
    assert "Ana Example" in reader(pdf).pages[0].extract_text()


def test_a_renderer_process_that_dies_is_replaced_for_the_next_letter(
    letter_renderers: Any,
) -> None:
    import os
    import signal

    letters = channel(letter_renderers, "strict")
    letters.prepare(LetterContent(BODY), ADDRESS, reference="before")
    pid = letters.renderer.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    pdf = letters.prepare(LetterContent(BODY), ADDRESS, reference="after").pdf
    assert letters.renderer.worker_pid not in (None, pid)
    assert "Ana Example" in reader(pdf).pages[0].extract_text()


def test_a_renderer_process_is_recycled_after_its_quota_of_letters(letter_renderers: Any) -> None:
    letters = channel(letter_renderers, "recycled")
    content = LetterContent("<p>Statement</p>")
    letters.prepare(content, ADDRESS, reference="1")
    first = letters.renderer.worker_pid
    letters.prepare(content, ADDRESS, reference="2")
    assert letters.renderer.worker_pid is None
    letters.prepare(content, ADDRESS, reference="3")
    assert letters.renderer.worker_pid not in (None, first)
