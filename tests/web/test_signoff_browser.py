"""In Chromium: a reviewer draws a sample, reads each drawn message, acknowledges findings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from hcs.http.auth import limiter
from tests.support.flows import ai_template, dispatch, send_ai, status
from tests.support.server import serving
from tests.support.web import CHROMIUM, NO_CHROMIUM, PASSWORD, chromium
from tests.support.world import World

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect


@pytest.fixture
def sam(sqlite_world: World) -> Iterator[Any]:
    limiter.reset()
    with serving(sqlite_world.app) as url, chromium() as browser:
        context = browser.new_context(base_url=url)
        context.set_default_timeout(5_000)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill("sam@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Signed in as sam@example.com", exact=True)).to_be_visible()
        yield page
        context.close()


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
