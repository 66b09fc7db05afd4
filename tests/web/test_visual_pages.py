"""The visual editor's server side over the Flask test client: who may compile a design, CSRF,
and a refused design shown next to the part with the block it names, nothing saved."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from hcs.infrastructure.db import transaction
from templates_store import versioning
from templates_store.lookup import get_version
from tests.support.web import Person
from tests.support.world import World

DOCUMENT = {
    "version": 1,
    "blocks": [
        {"type": "paragraph", "text": [{"text": "Hello "}, {"var": "first_name"}]},
        {"type": "button", "label": [{"text": "Go"}], "url": "https://shop.example/"},
    ],
}
VARIABLES = [{"name": "first_name", "type": "string", "required": True, "example": "Ana"}]


@pytest.fixture(scope="module")
def app(module_world: World) -> Flask:
    with transaction(module_world.app.extensions["hcs"].sessions) as session:
        versioning.create_template(
            session, key="visual-page", name="Visual", category="transactional", channels=["email"]
        )
        parts = {"email": {"en": {"subject": "Hi", "blocks": DOCUMENT}}}
        content = {"parts": parts, "variables": VARIABLES, "sample_data": {"first_name": "Ana"}}
        versioning.create_draft(session, "visual-page", author="ana@example.com", content=content)
    return module_world.app


def stored(app: Flask) -> dict[str, str]:
    with transaction(app.extensions["hcs"].sessions) as session:
        part = get_version(session, "visual-page", 1).parts["email"]["en"]
        return dict(part)


COMPILE = "/templates/visual-page/versions/1/compile/en"


def test_an_author_compiles_a_design_and_nothing_is_saved(app: Flask) -> None:
    before = stored(app)
    changed = {**DOCUMENT, "blocks": DOCUMENT["blocks"][:1]}
    answer = Person(app, "ana@example.com").post(COMPILE, {"document": json.dumps(changed)})
    assert answer.status_code == 200
    assert "Hello {{ first_name }}" in answer.get_json()["html"]
    assert stored(app) == before


def test_compiling_needs_the_author_role_and_the_form_token(app: Flask) -> None:
    body = {"document": json.dumps(DOCUMENT)}
    assert Person(app, "lee@example.com").post(COMPILE, body).status_code == 403
    assert Person(app, "ana@example.com").post(COMPILE, body, csrf=False).status_code == 400


def test_a_bad_design_is_refused_naming_the_block(app: Flask) -> None:
    bad = {"version": 1, "blocks": [{"type": "paragraph", "text": [{"var": "x }}{{ y"}]}]}
    answer = Person(app, "ana@example.com").post(COMPILE, {"document": json.dumps(bad)})
    assert answer.status_code == 422
    assert "blocks.blocks.0.text.0.var" in answer.get_json()["errors"]


def test_the_editor_shows_a_visual_part_with_its_compiled_code_out_of_the_way(app: Flask) -> None:
    page = Person(app, "ana@example.com").get("/templates/visual-page/versions/1/edit").text
    assert 'class="field visual-part"' in page and 'name="parts.email.en.blocks"' in page
    html_area = page.split('name="parts.email.en.html"', 1)[1].split(">", 1)[0]
    assert "data-compiled" in html_area and "data-code" not in html_area


def test_saving_a_broken_design_shows_where_and_changes_nothing(app: Flask) -> None:
    before = stored(app)
    ana = Person(app, "ana@example.com")
    bad = {
        "version": 1,
        "blocks": [{"type": "button", "label": [{"text": "Go"}], "url": "ftp://x"}],
    }
    form = {
        "parts.email.en.subject": "Hi",
        "parts.email.en.blocks": json.dumps(bad),
        "variables": json.dumps(VARIABLES),
        "sample_data": "{}",
        "ai_slots": "[]",
    }
    answer = ana.post("/templates/visual-page/versions/1/edit", form)
    assert answer.status_code == 422
    assert "blocks.0.url: must be an http(s)://" in answer.text
    unreadable = ana.post(
        "/templates/visual-page/versions/1/edit", {**form, "parts.email.en.blocks": "{oops"}
    )
    assert unreadable.status_code == 422 and "could not be read" in unreadable.text
    assert stored(app) == before


def test_the_review_page_shows_the_design_as_json(app: Flask) -> None:
    with transaction(app.extensions["hcs"].sessions) as session:
        versioning.create_template(
            session, key="visual-review", name="V", category="transactional", channels=["email"]
        )
        parts = {"email": {"en": {"subject": "Hi", "blocks": DOCUMENT}}}
        content = {"parts": parts, "variables": VARIABLES, "sample_data": {"first_name": "Ana"}}
        versioning.create_draft(session, "visual-review", author="ana@example.com", content=content)
        versioning.submit(session, "visual-review", 1)
    page = Person(app, "lee@example.com").get("/templates/visual-review/versions/1").text
    assert "email · en · blocks" in page
    assert '"type": "button"' in page and "{&#39;" not in page
