"""The review page shows everything being approved, version 1 included."""

from __future__ import annotations

import html
import re

from tests.support.flows import SLOT, ai_template
from tests.support.web import Person
from tests.support.world import World


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_first_version_shows_variables_slots_pins_hash_and_its_text(world: World) -> None:
    ai_template(world)
    shown = world.as_("ana@example.com").get("/templates/order-thanks/versions/1").get_json()
    page = Person(world.app, "bo@example.com").get("/templates/order-thanks/versions/1").text
    seen = " ".join(_text(page).split())
    assert "\\u003c" not in page and "\\r\\n" not in page
    assert "first_name string required personal" in seen
    assert "email email optional personal" in seen
    for value in (SLOT["instruction"], SLOT["fallback"], "friendly", "80", "fallback"):
        assert str(value) in seen
    assert "inputs: first_name" in seen
    assert "ai-disclosure version 1" in seen
    assert shown["closure_hash"] in seen
    assert "{{ opener }} Order {{ order_id }} is confirmed." in seen  # the source, as text
