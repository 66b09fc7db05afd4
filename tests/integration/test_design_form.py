"""The visual design without script: a form of fieldsets, posted and shown again by the server."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

from hcs.infrastructure.db import transaction
from templates_store import versioning
from templates_store.lookup import get_version
from templates_store.visual_document import clean_document
from templates_store.visual_email import compile_email
from tests.support.web import Person
from tests.support.world import World

DOCUMENT = {
    "version": 1,
    "blocks": [
        {"type": "heading", "level": 1, "text": [{"text": "Hi "}, {"var": "first_name"}]},
        {"type": "paragraph", "text": [{"text": "Kept words", "bold": True}]},
        {"type": "image", "src": "https://a.example/i.png", "alt": "A logo"},
    ],
}
PATH = "/templates/news/versions/1/design/en"


class _Form(HTMLParser):
    """The fields of the page's design form, as a browser would post them (no button)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._area: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        name = found.get("name", "")
        if tag == "input" and name:
            self.fields[name] = found.get("value", "")
        elif tag == "textarea" and name:
            self._area, self.fields[name] = name, ""
        elif tag == "select" and name:
            self._select = name
        elif (
            tag == "option"
            and self._select
            and ("selected" in found or self._select not in self.fields)
        ):
            self.fields[self._select] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        self._area = None if tag == "textarea" else self._area
        self._select = None if tag == "select" else self._select

    def handle_data(self, data: str) -> None:
        if self._area:
            self.fields[self._area] += data


def fields_of(page: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(page)
    return parser.fields


def _draft(app: Flask) -> None:
    with transaction(app.extensions["hcs"].sessions) as session:
        versioning.create_template(
            session, key="news", name="News", category="transactional", channels=["email"]
        )
        content = {
            "parts": {"email": {"en": {"subject": "News", "blocks": DOCUMENT}}},
            "variables": [{"name": "first_name", "type": "string", "required": True}],
            "sample_data": {"first_name": "Ana"},
        }
        versioning.create_draft(session, "news", author="ana@example.com", content=content)


def _stored(app: Flask) -> dict[str, Any]:
    with transaction(app.extensions["hcs"].sessions) as session:
        return dict(get_version(session, "news", 1).parts["email"]["en"])


def press(person: Person, page: str, op: str, **typed: str) -> Any:
    """Post the form as shown, with `typed` over its fields, by pressing the button `op`."""
    form = fields_of(page) | typed | {"op": op}
    form.pop("csrf_token", None)
    return person.post(PATH, form)


def test_without_script_blocks_are_edited_moved_removed_added_and_saved_through_the_form(
    world: World,
) -> None:
    _draft(world.app)
    ana = Person(world.app, "ana@example.com")
    page = ana.get(PATH).text
    assert "Heading, block 1 of 3" in page and "Hi {{ first_name }}" in page
    page = press(ana, page, "add:blocks", **{"kind.blocks": "button"}).text
    assert "Button, block 4 of 4" in page
    typed = {"blocks.3.label": "Shop now", "blocks.3.url": "https://shop.example/"}
    page = press(ana, page, "up:blocks.3", **typed).text
    assert "Move Button, block 3 of 4 up" in page  # moved above the image
    page = press(ana, page, "remove:blocks.3").text
    assert "Image" not in page.split("<form")[1].split("Block to add")[0]
    page = press(ana, page, "add:blocks", **{"kind.blocks": "if"}).text
    page = press(ana, page, "add:blocks.3.otherwise", **{"kind.blocks.3.otherwise": "divider"}).text
    assert "Divider, block 1 of 1" in page
    page = press(ana, page, "remove:blocks.3").text
    answer = press(ana, page, "save", **{"blocks.0.text": "Hello {{ first_name }}, welcome"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/edit")
    part = _stored(world.app)
    blocks = part["blocks"]["blocks"]
    assert [b["type"] for b in blocks] == ["heading", "paragraph", "button"]
    assert blocks[0]["text"] == [{"text": "Hello "}, {"var": "first_name"}, {"text": ", welcome"}]
    assert blocks[1]["text"] == [{"text": "Kept words", "bold": True}]  # words unchanged: kept
    assert blocks[2]["url"] == "https://shop.example/"
    assert part["html"] == compile_email(clean_document(part["blocks"]), locale="en")["html"]
    assert "Shop now" in part["html"]


def test_the_form_shows_the_visual_editors_messages_and_saves_nothing_while_a_block_is_wrong(
    world: World,
) -> None:
    _draft(world.app)
    ana = Person(world.app, "ana@example.com")
    page = press(ana, ana.get(PATH).text, "add:blocks", **{"kind.blocks": "image"}).text
    wrong = {
        "version": 1,
        "blocks": [*DOCUMENT["blocks"], {"type": "image", "src": "https://", "alt": ""}],
    }
    with pytest.raises(Exception) as raised:
        clean_document(wrong)
    found = raised.value.errors.items()  # type: ignore[attr-defined]
    # as the visual editor shows them, within the part: `blocks.3.alt: ...`
    expected = [f"{k.removeprefix('blocks.')}: {m}" for k, ms in found for m in ms]
    assert expected and all(message in html.unescape(page) for message in expected)
    assert "blocks.3.alt" in page and "has-problem" in page
    before = _stored(world.app)
    refused = press(ana, page, "save")
    assert refused.status_code == 422 and "cannot be saved" in refused.text
    assert _stored(world.app) == before


def test_typed_template_code_stays_text_and_a_bad_variable_is_named(world: World) -> None:
    _draft(world.app)
    ana = Person(world.app, "ana@example.com")
    page = ana.get(PATH).text
    code = "{% for x in range(9) %}{{ __class__ }}"
    answer = press(ana, page, "save", **{"blocks.1.text": code})
    assert answer.status_code == 303
    assert _stored(world.app)["blocks"]["blocks"][1]["text"] == [{"text": code}]
    page = ana.get(PATH).text
    refused = press(ana, page, "save", **{"blocks.1.text": "{{ a.__class__ }}"})
    assert refused.status_code == 422 and "blocks.1.text" in refused.text


def test_the_design_form_needs_its_csrf_token_and_an_author(world: World) -> None:
    _draft(world.app)
    ana, lee = Person(world.app, "ana@example.com"), Person(world.app, "lee@example.com")
    form = fields_of(ana.get(PATH).text) | {"op": "remove:blocks.0"}
    form.pop("csrf_token")
    assert ana.post(PATH, form | {"op": "save"}, csrf=False).status_code == 400
    assert lee.get(PATH).status_code == 403 and lee.post(PATH, form).status_code == 403
    assert _stored(world.app)["blocks"] == DOCUMENT
