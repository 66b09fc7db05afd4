"""Content blocks and brand themes in the browser's pages: roles, CSRF, the editor, the review."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from hcs.audit import AuditEntry
from hcs.infrastructure.db import transaction
from templates_store.lookup import get_block_version, get_theme_version
from tests.support.web import Person

HTML = "<p>{{ brand.company_name }} · 1 Harbour Street</p>"


@pytest.fixture(scope="module")
def people(app: Flask) -> dict[str, Person]:
    names = ["ana", "lee", "max", "root", "aud", "sam"]
    return {name: Person(app, f"{name}@example.com") for name in names}


def _block(
    people: dict[str, Person], key: str, *, author: str = "ana", submit: bool = True
) -> None:
    """A block created, written and (by default) submitted through the pages."""
    writer = people[author]
    assert writer.post("/blocks/new", {"key": key, "name": key.title()}).status_code == 302
    action = "submit" if submit else "save"
    saved = writer.post(
        f"/blocks/{key}/versions/1/edit",
        {"content.html.en": HTML, "content.text.en": "Northwind", "action": action},
    )
    assert saved.status_code == 302, saved.text


def _status(app: Flask, key: str, number: int, kind: str = "block") -> str:
    with transaction(app.extensions["hcs"].sessions) as session:
        lookup = get_block_version if kind == "block" else get_theme_version
        return lookup(session, key, number).status.value


def _actions(app: Flask, target: str) -> list[tuple[str, str]]:
    with transaction(app.extensions["hcs"].sessions) as session:
        query = select(AuditEntry).where(AuditEntry.target.contains(target)).order_by(AuditEntry.id)
        return [(e.action, e.actor) for e in session.scalars(query)]


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [
        ("lee", "get", "/blocks/new"),
        ("lee", "post", "/blocks/new"),
        ("aud", "post", "/themes/new"),
        ("lee", "get", "/blocks/roles-block/versions/1/edit"),
        ("lee", "post", "/blocks/roles-block/versions/1/edit"),
        ("sam", "post", "/blocks/roles-block/drafts"),
        ("ana", "post", "/blocks/roles-block/versions/1/approve"),
        ("ana", "post", "/blocks/roles-block/versions/1/reject"),
        ("ana", "post", "/blocks/roles-block/versions/1/publish"),
        ("aud", "post", "/themes/any-theme/versions/1/approve"),
    ],
)
def test_a_block_or_theme_page_or_action_without_the_role_answers_403(
    app: Flask, people: dict[str, Person], who: str, method: str, path: str
) -> None:
    person = people[who]
    answer = person.get(path) if method == "get" else person.post(path, {"key": "x-y-z"})
    assert answer.status_code == 403 and 'id="page-error"' in answer.text


def test_every_role_reads_the_lists_and_pages_of_blocks_and_themes(
    app: Flask, people: dict[str, Person]
) -> None:
    _block(people, "readable")
    for name in ("ana", "lee", "aud", "sam", "root"):
        listed = people[name].get("/blocks")
        assert listed.status_code == 200 and 'id="row-readable"' in listed.text
        assert "in_review" in listed.text
        assert people[name].get("/themes").status_code == 200
        assert people[name].get("/blocks/readable").status_code == 200
        assert people[name].get("/blocks/readable/versions/1").status_code == 200
    assert people["lee"].get("/blocks/nothing-here").status_code == 404
    assert people["lee"].get("/blocks/readable/versions/9").status_code == 404
    nav = people["sam"].get("/").text
    assert 'href="/blocks"' in nav and 'href="/themes"' in nav


def test_a_block_form_without_its_csrf_token_is_refused_and_creates_nothing(
    app: Flask, people: dict[str, Person]
) -> None:
    refused = people["ana"].post("/blocks/new", {"key": "forged", "name": "F"}, csrf=False)
    assert refused.status_code == 400 and "Form refused" in refused.text
    assert people["ana"].get("/blocks/forged").status_code == 404


def test_an_author_writes_and_submits_a_block_a_reviewer_approves_and_publishes_it(
    app: Flask, people: dict[str, Person]
) -> None:
    ana, lee = people["ana"], people["lee"]
    created = ana.post("/blocks/new", {"key": "footer", "name": "Footer", "description": "End"})
    assert created.headers["Location"] == "/blocks/footer/versions/1/edit"
    editor = ana.get("/blocks/footer/versions/1/edit")
    assert 'name="content.html.en"' in editor.text and 'name="content.text.en"' in editor.text
    saved = ana.post("/blocks/footer/versions/1/edit", {"content.html.en": HTML})
    assert saved.status_code == 302 and _status(app, "footer", 1) == "draft"
    french = ana.get("/blocks/footer/versions/1/edit?add_locale=fr")
    assert 'name="content.html.fr"' in french.text
    submitted = ana.post(
        "/blocks/footer/versions/1/edit",
        {"content.html.en": HTML, "content.text.fr": "Northwind (fr)", "action": "submit"},
    )
    assert submitted.headers["Location"] == "/blocks/footer/versions/1"
    review = lee.get("/blocks/footer/versions/1")
    assert "Waiting for the <strong>legal</strong> stage" in review.text
    assert 'id="approve"' in review.text and "Northwind (fr)" in review.text
    assert lee.post("/blocks/footer/versions/1/approve", {"comment": "ok"}).status_code == 302
    assert lee.post("/blocks/footer/versions/1/publish").status_code == 302
    assert _status(app, "footer", 1) == "published"
    ana.post("/blocks/footer/drafts")
    ana.post("/blocks/footer/versions/2/edit", {"content.html.en": "<p>New footer</p>"})
    changes = lee.get("/blocks/footer/versions/2").text
    assert "Changes against version 1 (published)" in changes
    assert '<span class="add">+&lt;p&gt;New footer&lt;/p&gt;</span>' in changes
    assert _actions(app, "footer") == [
        ("block.create", "ana@example.com"),
        ("block.draft", "ana@example.com"),
        ("block.edit", "ana@example.com"),
        ("block.edit", "ana@example.com"),
        ("block.submit", "ana@example.com"),
        ("block.approve", "lee@example.com"),
        ("block.publish", "lee@example.com"),
        ("block.draft", "ana@example.com"),
        ("block.edit", "ana@example.com"),
    ]


def test_an_author_cannot_approve_her_own_block_and_the_page_says_why(
    app: Flask, people: dict[str, Person]
) -> None:
    _block(people, "own-block", author="max")
    page = people["max"].post("/blocks/own-block/versions/1/approve", {"comment": "mine"})
    assert page.status_code == 403
    assert 'id="refusal"' in page.text and "you wrote version 1" in page.text
    assert _status(app, "own-block", 1) == "in_review"
    rejected = people["lee"].post("/blocks/own-block/versions/1/reject", {"comment": ""})
    assert rejected.status_code == 422 and "needs a comment" in rejected.text


def test_a_block_syntax_error_shows_next_to_its_field_and_nothing_is_saved(
    app: Flask, people: dict[str, Person]
) -> None:
    _block(people, "broken-block", submit=False)
    answer = people["ana"].post(
        "/blocks/broken-block/versions/1/edit", {"content.html.en": "<p>{% if %}</p>"}
    )
    assert answer.status_code == 422 and answer.text.count('id="f-html-en-error"') == 1
    assert 'aria-invalid="true"' in answer.text and "{% if %}" in answer.text
    assert "Nothing was saved" in answer.text
    empty = people["ana"].post(
        "/blocks/broken-block/versions/1/edit", {"content.html.en": "", "action": "submit"}
    )
    assert empty.status_code == 422 and "is empty" in empty.text
    assert _status(app, "broken-block", 1) == "draft"


def test_a_submitted_block_cannot_be_edited_any_more(app: Flask, people: dict[str, Person]) -> None:
    _block(people, "frozen-block")
    opened = people["ana"].get("/blocks/frozen-block/versions/1/edit")
    assert (
        opened.status_code == 302
        and opened.headers["Location"] == "/blocks/frozen-block/versions/1"
    )
    changed = people["ana"].post("/blocks/frozen-block/versions/1/edit", {"content.html.en": "x"})
    assert changed.status_code == 409 and "start a new draft" in changed.text


def test_a_theme_keeps_its_settings_and_files_and_refuses_settings_that_are_not_an_object(
    app: Flask, people: dict[str, Person]
) -> None:
    ana, lee = people["ana"], people["lee"]
    assert ana.post("/themes/new", {"key": "northwind", "name": "Northwind"}).status_code == 302
    logo = (io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "logo.svg")
    saved = ana.post(
        "/themes/northwind/versions/1/edit",
        {"settings": '{"colors": {"primary": "#0B5FFF"}}', "asset": logo},
    )
    assert saved.status_code == 302, saved.text
    refused = ana.post("/themes/northwind/versions/1/edit", {"settings": '["a list"]'})
    assert refused.status_code == 422 and 'id="f-settings-error"' in refused.text
    assert "must be a JSON object" in refused.text
    removed = ana.post(
        "/themes/northwind/versions/1/edit",
        {"settings": '{"colors": {"primary": "#000000"}}', "remove_asset": "logo.svg"},
    )
    assert removed.status_code == 302
    with transaction(app.extensions["hcs"].sessions) as session:
        version = get_theme_version(session, "northwind", 1)
        assert version.settings == {"colors": {"primary": "#000000"}} and version.assets == {}
    ana.post("/themes/northwind/versions/1/edit", {"settings": "{}", "action": "submit"})
    assert lee.post("/themes/northwind/versions/1/approve").status_code == 302
    assert _status(app, "northwind", 1, "theme") == "approved"
    assert 'id="publish"' in lee.get("/themes/northwind/versions/1").text


def test_a_taken_key_is_refused_next_to_its_field(app: Flask, people: dict[str, Person]) -> None:
    _block(people, "taken-key", submit=False)
    again = people["ana"].post("/blocks/new", {"key": "taken-key", "name": "Again"})
    assert again.status_code == 422 and 'id="key-error"' in again.text
    bad = people["ana"].post("/themes/new", {"key": "No Spaces", "name": "Bad"})
    assert bad.status_code == 422 and 'id="key-error"' in bad.text


def test_a_block_in_review_is_linked_from_the_reviewers_home_page(
    app: Flask, people: dict[str, Person]
) -> None:
    _block(people, "home-block")
    assert 'href="/blocks/home-block/versions/1"' in people["lee"].get("/").text


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_themes_form_sets_colours_fonts_and_a_checked_logo_and_names_each_bad_field(
    app: Flask, people: dict[str, Person]
) -> None:
    ana = people["ana"]
    assert ana.post("/themes/new", {"key": "formed", "name": "Formed"}).status_code == 302
    path = "/themes/formed/versions/1/edit"
    page = ana.get(path).text
    assert 'type="color"' in page and 'name="settings.fonts.body"' in page
    good = {
        "settings.company_name": "Formed Ltd",
        "settings.colors.primary": "#112233",
        "settings.fonts.heading": "Georgia",
        "logo": (io.BytesIO(PNG), "my logo.png"),
    }
    assert ana.post(path, good).status_code == 302
    with transaction(app.extensions["hcs"].sessions) as session:
        version = get_theme_version(session, "formed", 1)
        settings, assets = version.settings, version.assets
    assert settings["company_name"] == "Formed Ltd" and settings["colors"]["primary"] == "#112233"
    assert settings["fonts"]["heading"] == "Georgia" and settings["logo"] == "logo.png"
    assert assets["logo.png"]["content_type"] == "image/png"
    bad = {
        "settings.colors.primary": "red; background:url(//x)",
        "settings.fonts.body": "Comic Sans</style>",
        "logo": (io.BytesIO(b"<html>not an image</html>"), "logo.png"),
    }
    refused = ana.post(path, bad)
    assert refused.status_code == 422
    for field in ("f-settings-colors-primary-error", "f-settings-fonts-body-error", "f-logo-error"):
        assert f'id="{field}"' in refused.text, field
    with transaction(app.extensions["hcs"].sessions) as session:
        assert get_theme_version(session, "formed", 1).settings == settings  # nothing changed


@pytest.mark.parametrize(
    "logo",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"<svg xmlns='http://www.w3.org/2000/svg'><image href='http://127.0.0.1/x'/></svg>",
        PNG + b"\x00" * (512 * 1024),
    ],
    ids=["script", "event", "outside-reference", "too-large"],
)
def test_a_logo_that_is_active_or_too_large_is_refused(
    app: Flask, people: dict[str, Person], logo: bytes
) -> None:
    ana = people["ana"]
    key = f"logo-{len(logo)}-{logo[5:9].hex()}"
    assert ana.post("/themes/new", {"key": key, "name": "Logo"}).status_code == 302
    # Encoded here, in memory: the test client would spool a large body to a file it never closes.
    form = {"csrf_token": ana.token, "logo": FileStorage(io.BytesIO(logo), "l.svg")}
    boundary, body = encode_multipart(form)
    refused = ana.client.post(
        f"/themes/{key}/versions/1/edit",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert refused.status_code == 422 and 'id="f-logo-error"' in refused.text
