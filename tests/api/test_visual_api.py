"""The API takes and returns a visual email part's block document; a bad one is a 422 naming it."""

from __future__ import annotations

from tests.support.flows import PARTS, SAMPLE, VARIABLES, new_template
from tests.support.world import World

DOCUMENT = {
    "version": 1,
    "blocks": [
        {"type": "paragraph", "text": [{"text": "Hi "}, {"var": "first_name"}]},
        {"type": "button", "label": [{"text": "Track"}], "url": "https://shop.example/t"},
    ],
}


def test_a_block_document_is_saved_returned_and_previewed(world: World) -> None:
    new_template(world)
    ana = world.as_("ana@example.com")
    parts = {**PARTS, "email": {"en": {"subject": "Order {{ order_id }}", "blocks": DOCUMENT}}}
    saved = ana.patch("/templates/order-confirmation/versions/1", {"parts": parts})
    assert saved.status_code == 200, saved.get_json()
    part = ana.get("/templates/order-confirmation/versions/1").get_json()["parts"]["email"]["en"]
    assert part["blocks"]["blocks"][1]["url"] == "https://shop.example/t"
    assert 'href="https://shop.example/t"' in part["html"] and "Hi {{ first_name }}" in part["text"]
    preview = ana.post(
        "/templates/order-confirmation/preview", {"channel": "email", "data": SAMPLE, "version": 1}
    ).get_json()
    assert "Hi Ana" in preview["output"]["html"]


def test_a_bad_block_document_is_refused_with_its_path_and_nothing_changes(world: World) -> None:
    new_template(world)
    ana = world.as_("ana@example.com")
    bad = {
        "version": 1,
        "blocks": [{"type": "button", "label": [{"text": "Go"}], "url": "javascript:x"}],
    }
    parts = {**PARTS, "email": {"en": {"subject": "S", "blocks": bad}}}
    refused = ana.patch(
        "/templates/order-confirmation/versions/1", {"parts": parts, "variables": VARIABLES}
    )
    assert refused.status_code == 422
    assert "parts.email.en.blocks.blocks.0.url" in refused.get_json()["errors"]
    stored = ana.get("/templates/order-confirmation/versions/1").get_json()["parts"]["email"]["en"]
    assert "blocks" not in stored and stored == PARTS["email"]["en"]
