"""Letters in the live preview, the preview grid and the archive: the pages of the real PDF."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from hcs.audit import AuditEntry
from hcs.channels.letter import close_renderers
from hcs.cli.seeding import load_demo
from hcs.http.web.pages.editor import FRAME_POLICY
from hcs.infrastructure.db import transaction
from hcs.worker.runtime import build_worker
from templates_store import versioning
from templates_store.lookup import get_version
from tests.support.web import LETTER_ADDRESS, PAYMENT, Person
from tests.support.world import World

VARIABLES = '[{"name": "order_id", "type": "string", "required": true}]'
PAGE_IMAGE = re.compile(r'<img src="data:image/png;base64,([^"]+)"[^>]*alt="(Page \d+ of \d+)"')


@pytest.fixture(scope="module")
def app(module_world: World) -> Iterator[Flask]:
    app = module_world.app
    with transaction(app.extensions["hcs"].sessions) as session:
        versioning.create_template(
            session, key="notice", name="Notice", category="service", channels=["letter"]
        )
        parts = {"letter": {"en": {"html": "<h1>Notice {{ order_id }}</h1>"}}}
        content = {
            "parts": parts,
            "variables": [{"name": "order_id", "type": "string"}],
            "sample_data": {"order_id": "A-7"},
        }
        versioning.create_draft(session, "notice", author="ana@example.com", content=content)
    yield app
    close_renderers()


@pytest.fixture(scope="module")
def people(app: Flask) -> dict[str, Person]:
    return {name: Person(app, f"{name}@example.com") for name in ("ana", "lee", "aud")}


def _letter(html: str, css: str = "") -> dict[str, str]:
    form = {"parts.letter.en.html": html, "variables": VARIABLES}
    form.update({"sample_data": '{"order_id": "A-1001"}', "parts.letter.en.css": css})
    return form


def _pages(text: str) -> list[tuple[Image.Image, str]]:
    return [
        (Image.open(io.BytesIO(base64.b64decode(data))), alt)
        for data, alt in PAGE_IMAGE.findall(text)
    ]


def _has_draft_banner(image: Image.Image) -> bool:
    """The draft watermark is a red band (#b00020) across the top of the letter's body."""
    colours = image.convert("RGB").getcolors(1 << 20) or []
    return any(count > 1000 and colour == (176, 0, 32) for count, colour in colours)


def test_the_live_preview_shows_a_draft_letter_as_the_pages_of_its_pdf(
    app: Flask, people: dict[str, Person]
) -> None:
    panel = people["ana"].post("/templates/notice/versions/1/preview", _letter("<p>Hi</p>"))
    assert 'data-frame-url="/templates/notice/versions/1/letter/en"' in panel.text
    answer = people["ana"].post(
        "/templates/notice/versions/1/letter/en",
        _letter("<h1>Order {{ order_id }}</h1><p>Thank you.</p>", "h1 { color: #0b4f9c }"),
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Security-Policy"] == FRAME_POLICY
    assert "1 page" in answer.text
    [(page, alt)] = _pages(answer.text)
    assert alt == "Page 1 of 1" and page.size == (827, 1170)  # A4 at 100 dpi
    assert _has_draft_banner(page)  # a draft's PDF carries its watermark
    with transaction(app.extensions["hcs"].sessions) as session:
        stored = get_version(session, "notice", 1).parts["letter"]["en"]["html"]
    assert stored == "<h1>Notice {{ order_id }}</h1>"  # nothing of the preview was kept


def test_a_long_letter_shows_its_first_ten_pages_and_counts_the_rest(
    people: dict[str, Person],
) -> None:
    html = '<p style="break-after: page">{{ order_id }}</p>' * 12
    answer = people["ana"].post("/templates/notice/versions/1/letter/en", _letter(html))
    pages = _pages(answer.text)
    assert [alt for _, alt in pages] == [f"Page {n} of 12" for n in range(1, 11)]
    assert "12 pages: the first 10 shown, 2 more in the PDF" in answer.text


def test_a_letter_that_names_an_outside_resource_is_refused_not_shown_without_it(
    people: dict[str, Person],
) -> None:
    html = '<p>Logo</p><img src="http://127.0.0.1:9/logo.png" alt="logo">'
    answer = people["ana"].post("/templates/notice/versions/1/letter/en", _letter(html))
    assert answer.status_code == 200 and not _pages(answer.text)
    assert 'role="alert"' in answer.text and "This letter cannot be shown" in answer.text
    assert "127.0.0.1:9" in answer.text


def test_a_template_error_shows_in_the_letter_frame(people: dict[str, Person]) -> None:
    answer = people["ana"].post("/templates/notice/versions/1/letter/en", _letter("{{ nope }}"))
    assert not _pages(answer.text) and "nope" in answer.text and "is undefined" in answer.text


def test_only_authors_preview_unsaved_letters_and_everyone_sees_the_grids(
    people: dict[str, Person],
) -> None:
    refused = people["lee"].post("/templates/notice/versions/1/letter/en", _letter("<p>x</p>"))
    assert refused.status_code == 403 and not _pages(refused.text)
    grid = people["aud"].get("/templates/notice/versions/1/grid")
    assert 'src="/templates/notice/versions/1/letter/en"' in grid.text
    assert 'class="letter"' in grid.text
    saved = people["aud"].get("/templates/notice/versions/1/letter/en")
    assert saved.headers["Content-Security-Policy"] == FRAME_POLICY
    [(page, alt)] = _pages(saved.text)
    assert alt == "Page 1 of 1" and _has_draft_banner(page)


def _reads(app: Flask) -> int:
    with transaction(app.extensions["hcs"].sessions) as session:
        query = select(func.count()).where(AuditEntry.action == "archive.read")
        return int(session.scalar(query) or 0)


def test_an_archived_letter_is_shown_as_the_pages_it_was_sent_as(sqlite_world: World) -> None:
    world = sqlite_world
    services = world.app.extensions["hcs"]
    try:
        with transaction(services.sessions) as session:
            load_demo(session)
        body = {
            "template": "payment-due",
            "channel": "letter",
            "to": {"address": LETTER_ADDRESS},
            "data": PAYMENT,
            "locale": "fr-FR",
        }
        assert world.as_("system").post("/messages", body).status_code == 202
        build_worker(services.settings, services.sessions).run_once()  # sends and archives
        aud = Person(world.app, "aud@example.com")
        listing = aud.get("/archive?channel=letter").text
        entry_path = re.search(r'href="(/archive/\d+)"', listing)[1]  # type: ignore[index]
        entry = aud.get(entry_path).text
        assert f'src="{entry_path}/rendered"' in entry and 'class="letter"' in entry
        before = _reads(world.app)
        frame = aud.get(f"{entry_path}/rendered")
        assert frame.headers["Content-Security-Policy"] == FRAME_POLICY
        pages = _pages(frame.text)
        assert pages and pages[0][1] == f"Page 1 of {len(pages)}"
        assert not any(_has_draft_banner(page) for page, _ in pages)  # as sent: no watermark
        assert _reads(world.app) == before + 1  # looking at the letter is a reading, audited
    finally:
        close_renderers()
        services.engine.dispose()
