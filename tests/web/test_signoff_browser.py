"""In Chromium: a reviewer draws a sample, reads each drawn message, acknowledges findings."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hcs.http.auth import limiter
from tests.support.flows import (
    ai_channels_template,
    ai_template,
    disclosure_block,
    dispatch,
    send_ai,
    send_on,
    status,
)
from tests.support.server import serving
from tests.support.web import CHROMIUM, NO_CHROMIUM, PASSWORD, chromium
from tests.support.world import World

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect


@pytest.fixture
def signed_in(sqlite_world: World) -> Iterator[Callable[[str], Any]]:
    """Signs a person in, in a browser context of their own; their page."""
    limiter.reset()
    with serving(sqlite_world.app) as url, chromium() as browser:
        contexts = []

        def sign_in(email: str) -> Any:
            context = browser.new_context(base_url=url)
            contexts.append(context)
            context.set_default_timeout(5_000)
            page = context.new_page()
            page.goto("/login")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text(f"Signed in as {email}", exact=True)).to_be_visible()
            return page

        yield sign_in
        for context in contexts:
            context.close()


@pytest.fixture
def sam(signed_in: Callable[[str], Any]) -> Any:
    return signed_in("sam@example.com")


def test_a_sample_is_read_one_by_one_and_a_finding_acknowledged_before_the_rest_goes(
    sqlite_world: World, sam: Any
) -> None:
    world = sqlite_world
    world.as_("root@example.com").patch("/policies/service", {"forbidden_topics": ["discounts"]})
    ai_template(world)
    flagged = send_ai(world, first_name="Voucher")
    clean = [
        send_ai(world, first_name=name) for name in ("Ann", "Ben", "Cy", "Di", "Ed", "Flo", "Gus")
    ]
    while dispatch(world):
        pass
    sam.goto("/signoffs")
    sam.get_by_role("button", name="Draw a sample of order-thanks v1").click()
    expect(sam.get_by_text("decide the 5 sampled message(s) one by one")).to_be_visible()
    sample = sam.get_by_role("list", name="Sample of batch 1").get_by_role("link")
    drawn = [re.sub(r"\D", "", text) for text in sample.all_inner_texts()]
    assert len(drawn) == 5
    sam.get_by_role("button", name="Approve the rest of batch 1").click()
    expect(sam.get_by_role("alert")).to_contain_text("one by one first")
    # A refused edit stays in its field, with the reason under it.
    first = sam.locator(f"#item-{drawn[0]}")
    first.get_by_label("Text to send for opener (edit to change)").fill("We refund it all!")
    first.get_by_role("button", name="Approve", exact=True).click()
    field = sam.locator(f"#item-{drawn[0]}").get_by_label(
        "Text to send for opener (edit to change)"
    )
    expect(field).to_have_value("We refund it all!")
    expect(sam.locator(f"#slot-{drawn[0]}-opener-error")).to_be_visible()
    field.fill("Hi there, thanks for your order.")
    for item_id in drawn:
        sam.locator(f"#item-{item_id}").get_by_role("button", name="Approve", exact=True).click()
        expect(sam.get_by_text(f"Sign-off {item_id} approved.")).to_be_visible()
    # The flagged message: its finding must be ticked before it can go.
    section = sam.locator("section", has=sam.get_by_text("flagged", exact=True))
    section.get_by_role("button", name="Approve", exact=True).click()
    expect(sam.locator("#signoff-error")).to_contain_text("acknowledge each finding first")
    section = sam.locator("section", has=sam.get_by_text("flagged", exact=True))
    section.get_by_label("I have read this finding (opener.forbidden_topics)").check()
    section.get_by_role("button", name="Approve", exact=True).click()
    sam.get_by_role("button", name="Approve the rest of batch 1").click()
    expect(sam.get_by_text("2 message(s) of batch 1 approved together.")).to_be_visible()
    assert {status(world, m)["status"] for m in [flagged, *clean]} == {"queued"}


def _draw(sam: Any) -> list[str]:
    sam.get_by_role("button", name="Draw a sample of order-thanks v1").click()
    batch = re.search(r"Batch (\d+):", sam.get_by_role("status").inner_text())
    assert batch is not None
    sample = sam.get_by_role("list", name=f"Sample of batch {batch[1]}").get_by_role("link")
    return [re.sub(r"\D", "", text) for text in sample.all_inner_texts()]


def test_a_rejection_in_the_sample_refuses_the_batch_and_the_next_set_needs_a_fresh_sample(
    sqlite_world: World, sam: Any
) -> None:
    world = sqlite_world
    world.as_("root@example.com").patch("/policies/service", {"forbidden_topics": ["discounts"]})
    ai_template(world)
    flagged = send_ai(world, first_name="Voucher")
    for name in ("Ann", "Ben", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ivy"):
        send_ai(world, first_name=name)
    while dispatch(world):
        pass
    sam.goto("/signoffs")
    flagged_item = sam.locator("section", has=sam.get_by_text("flagged", exact=True))
    flagged_id = re.sub(r"\D", "", flagged_item.get_attribute("id") or "")
    first = _draw(sam)
    assert len(first) == 5 and flagged_id not in first  # flagged items never count
    # The flagged one decided one by one (acknowledged) does not make the sample either.
    flagged_item.get_by_label("I have read this finding (opener.forbidden_topics)").check()
    flagged_item.get_by_role("button", name="Approve", exact=True).click()
    expect(sam.get_by_text(f"Sign-off {flagged_id} approved.")).to_be_visible()
    for item_id in first[:-1]:
        sam.locator(f"#item-{item_id}").get_by_role("button", name="Approve", exact=True).click()
    rejected = sam.locator(f"#item-{first[-1]}")
    rejected.get_by_label("Comment").fill("Too pushy.")
    rejected.get_by_role("button", name="Reject").click()
    expect(sam.get_by_text(f"Sign-off {first[-1]} rejected.")).to_be_visible()
    expect(sam.locator("#batch-1")).to_have_count(0)  # refused: no longer open
    second = _draw(sam)
    expect(sam.locator("#batch-2")).to_contain_text("tightened inspection")
    assert set(second).isdisjoint(first)
    sam.get_by_role("button", name="Approve the rest of batch 2").click()
    expect(sam.get_by_role("alert")).to_contain_text("one by one first")
    assert status(world, flagged)["status"] == "queued"


def test_the_reviewer_reads_the_whole_message_on_its_channel_with_the_input_values(
    sqlite_world: World, sam: Any
) -> None:
    world = sqlite_world
    ai_template(world)
    ai_channels_template(world)
    sms = send_ai(world, first_name="Zoë")
    email = send_on(world, "order-letters", "email", {"email": "ana@example.com"})
    while dispatch(world):
        pass
    sam.goto("/signoffs")
    [sms_item] = sam.locator("section", has_text=sms).all()
    expect(sms_item.locator(".bubble mark")).to_have_text("Hi Zoë, thank you for shopping with us.")
    expect(sms_item.locator(".bubble")).to_contain_text("(Written with AI, checked by our team.)")
    expect(sms_item.get_by_role("definition")).to_have_text("Zoë")
    expect(sms_item.locator("[id$=-segments]")).to_contain_text("UCS-2")
    [email_item] = sam.locator("section", has_text=email).all()
    frame = email_item.frame_locator("iframe")
    expect(frame.locator("mark")).to_have_text("Hi Ana, thank you for shopping with us.")
    expect(frame.get_by_text("Written with AI, checked by our team.")).to_be_visible()


def test_a_draft_disclosing_only_in_the_email_is_refused_at_submission_for_its_sms(
    sqlite_world: World, signed_in: Callable[[str], Any]
) -> None:
    world = sqlite_world
    disclosure_block(world)
    ana_api = world.as_("ana@example.com")
    channels = ["email", "sms"]
    ana_api.post(
        "/templates",
        {"key": "welcome-note", "name": "Welcome", "category": "service", "channels": channels},
    )
    parts = {
        "email": {
            "en": {
                "subject": "Hi",
                "html": '<html lang="en"><body>{{ opener }} '
                "{{ block('ai-disclosure') }}</body></html>",
            }
        },
        "sms": {"en": {"body": "{{ opener }}"}},
    }
    slot = {
        "name": "opener",
        "instruction": "Greet.",
        "inputs": [],
        "max_chars": 80,
        "fallback": "Hello.",
        "tone": "friendly",
        "on_failure": "fallback",
    }
    made = ana_api.post("/templates/welcome-note/versions", {"parts": parts, "ai_slots": [slot]})
    assert made.status_code == 201, made.get_json()
    ana = signed_in("ana@example.com")
    ana.goto("/templates/welcome-note/versions/1/edit")
    ana.get_by_role("button", name="Save and submit for review").click()
    expect(ana.get_by_text("this sms part carries AI text")).to_be_visible()
    assert ana_api.get("/templates/welcome-note/versions/1").get_json()["status"] == "draft"
