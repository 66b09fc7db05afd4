"""API preview without `version` shows what a send would send: the published version."""

from __future__ import annotations

from tests.support.flows import PARTS, new_template, reviewed
from tests.support.world import World


def test_preview_renders_the_published_version_not_a_newer_draft(world: World) -> None:
    new_template(world)
    ana = world.as_("ana@example.com")
    unpublished = ana.post("/templates/order-confirmation/preview", {"channel": "sms"})
    assert unpublished.status_code == 422 and "version" in unpublished.get_json()["errors"]
    reviewed(world, "order-confirmation", 1, "lee@example.com")
    world.as_("lee@example.com").post("/templates/order-confirmation/versions/1/publish")
    changed = {**PARTS, "sms": {"en": {"body": "New wording for {{ order_id }}."}}}
    ana.post("/templates/order-confirmation/versions", {"parts": changed})

    sends = ana.post("/templates/order-confirmation/preview", {"channel": "sms"}).get_json()
    assert sends["version"] == 1 and sends["is_preview"] is False
    assert sends["output"]["body"] == "Order A-1001 is confirmed."
    draft = ana.post(
        "/templates/order-confirmation/preview", {"channel": "sms", "version": 2}
    ).get_json()
    assert draft["version"] == 2 and draft["is_preview"] is True
    assert draft["output"]["body"] == "[DRAFT] New wording for A-1001."
    html = ana.post(
        "/templates/order-confirmation/preview", {"channel": "email", "version": 2}
    ).get_json()["output"]["html"]
    assert "draft" in html.lower()
