"""On the sign-off page: each finding of a flagged message is acknowledged before approval."""

from __future__ import annotations

import re

from tests.support.flows import (
    ai_channels_template,
    ai_template,
    dispatch,
    send_ai,
    send_on,
    status,
)
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


def test_each_message_shows_on_its_channel_email_in_a_sandboxed_frame_and_letter_pages(
    sqlite_world: World,
) -> None:
    world = sqlite_world
    ai_template(world)
    ai_channels_template(world)
    sms = send_ai(world, first_name="Zoë")
    email = send_on(world, "order-letters", "email", {"email": "ana@example.com"})
    letter = send_on(world, "order-letters", "letter", {"address": ["Ana", "1 High St", "Leeds"]})
    while dispatch(world):
        pass
    sam = Person(world.app, "sam@example.com")
    page = sam.get("/signoffs")
    assert page.headers["Cache-Control"] == "no-store"
    ids = {m: i for i, m in re.findall(r'id="item-(\d+)".*?Message (msg_\w+)', page.text, re.S)}
    assert f'id="item-{ids[sms]}-segments">' in page.text and "UCS-2 because of ë" in page.text
    assert f'<iframe sandbox title="The email of message {email}' in page.text
    frame = sam.get(f"/signoffs/{ids[email]}/frame")
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert frame.headers["Cache-Control"] == "no-store"
    assert '<mark data-ai-slot="opener">Hi Ana, thank you' in frame.text
    assert "Written with AI, checked by our team." in frame.text
    pages = sam.get(f"/signoffs/{ids[letter]}/letter")
    assert pages.status_code == 200 and 'alt="Page 1 of 1"' in pages.text
    # Nobody without the signoff role reads them.
    assert (
        Person(world.app, "ana@example.com").get(f"/signoffs/{ids[email]}/frame").status_code == 403
    )
