"""On the sign-off page: each finding of a flagged message is acknowledged before approval."""

from __future__ import annotations

import re

from tests.support.flows import ai_template, dispatch, send_ai, status
from tests.support.web import Person
from tests.support.world import World


def test_a_flagged_message_needs_a_checkbox_per_finding_ticked(sqlite_world: World) -> None:
    world = sqlite_world
    root = world.as_("root@example.com")
    root.patch("/policies/service", {"forbidden_topics": ["discounts"]})
    ai_template(world)
    message_id = send_ai(world, first_name="Discount")
    dispatch(world)
    sam = Person(world.app, "sam@example.com")
    page = sam.get("/signoffs").text
    item_id = re.search(r'action="/signoffs/(\d+)/approve"', page)[1]  # type: ignore[index]
    assert 'name="acknowledged" value="opener.forbidden_topics"' in page
    assert f'id="item-{item_id}-generated-opener">Hi Discount, thank you' in page
    refused = sam.post(f"/signoffs/{item_id}/approve", {"comment": "ok"})
    assert refused.status_code == 422
    assert "acknowledge each finding first: opener.forbidden_topics" in refused.text
    assert status(world, message_id)["status"] == "awaiting_signoff"
    approved = sam.post(f"/signoffs/{item_id}/approve", {"acknowledged": "opener.forbidden_topics"})
    assert approved.status_code == 302
    assert status(world, message_id)["status"] == "queued"
