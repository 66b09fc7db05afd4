"""Approvals in Debian's Chromium: what the review page shows, who is refused, sign-out."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from hcs.http.auth import limiter
from hcs.identity import create_user
from hcs.infrastructure.db import transaction
from tests.support.flows import PARTS, new_template, published
from tests.support.server import serving
from tests.support.web import CHROMIUM, NO_CHROMIUM, PASSWORD, chromium
from tests.support.world import World

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect
BASE = "/templates/order-confirmation/versions"


@pytest.fixture(scope="module")
def base_url(module_world: World) -> Iterator[str]:
    with serving(module_world.app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def contexts(browser: sync_api.Browser, base_url: str) -> Iterator[list[sync_api.BrowserContext]]:
    """The test's browser contexts (one per person), closed after it."""
    limiter.reset()  # the login limit is for attackers, not a module of quick tests
    opened: list[sync_api.BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def _context(
    browser: sync_api.Browser, base_url: str, opened: list[sync_api.BrowserContext]
) -> sync_api.BrowserContext:
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(5_000)
    opened.append(context)
    return context


def _sign_in(
    browser: sync_api.Browser, base_url: str, opened: list[sync_api.BrowserContext], email: str
) -> sync_api.Page:
    page = _context(browser, base_url, opened).new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {email}", exact=True)).to_be_visible()
    return page


def test_the_review_page_shows_each_channel_rendered_and_the_changes_word_by_word(
    module_world: World,
    browser: sync_api.Browser,
    base_url: str,
    contexts: list[sync_api.BrowserContext],
) -> None:
    published(module_world)
    ana = module_world.as_("ana@example.com")
    sms = {"sms": {"en": {"body": "Order {{ order_id }} is on its way."}}}
    assert ana.post(f"{BASE}", {"parts": {**sms, "email": PARTS["email"]}}).status_code == 201
    assert ana.post(f"{BASE}/2/submit").status_code == 200
    lee = _sign_in(browser, base_url, contexts, "bo@example.com")
    lee.goto(f"{BASE}/2")
    previews = lee.locator("#previews")
    expect(previews.locator("#preview-sms-en .bubble")).to_contain_text(
        "Order A-1001 is on its way."
    )
    expect(previews.locator("#preview-sms-en")).to_contain_text("GSM-7 · 1 segment")
    email = lee.frame_locator("#preview-email-en iframe[sandbox]")
    expect(email.locator("p")).to_contain_text("Hi Ana, order A-1001 is confirmed.")
    words = lee.locator("#words")
    expect(words.locator("ins").first).to_have_text("on its way")
    expect(words.locator("del").first).to_have_text("confirmed")
    expect(lee.locator("#findings")).to_be_visible()
    lee.get_by_role("button", name="Approve").click()
    expect(lee.locator("#version-status")).to_have_text("Approved")


def test_a_reviewer_outside_the_stages_group_is_refused_on_the_page(
    module_world: World,
    browser: sync_api.Browser,
    base_url: str,
    contexts: list[sync_api.BrowserContext],
) -> None:
    with transaction(module_world.app.extensions["hcs"].sessions) as session:
        create_user(
            session,
            email="gil@example.com",
            roles=["reviewer"],
            password=PASSWORD,
            groups=["brand"],
            actor="t",
        )
    new_template(module_world, key="legal-only")
    assert (
        module_world.as_("ana@example.com")
        .post("/templates/legal-only/versions/1/submit")
        .status_code
        == 200
    )
    gil = _sign_in(browser, base_url, contexts, "gil@example.com")
    gil.goto("/templates/legal-only/versions/1")
    gil.get_by_role("button", name="Approve").click()
    expect(gil.locator("#refusal")).to_contain_text("held by the group 'legal'")
    expect(gil.locator("#version-status")).to_have_text("In review")
    expect(gil.locator("#approvals")).to_contain_text("None yet.")


def test_signing_out_ends_the_session_for_the_back_button_and_a_copied_cookie(
    module_world: World,
    browser: sync_api.Browser,
    base_url: str,
    contexts: list[sync_api.BrowserContext],
) -> None:
    new_template(module_world, key="after-sign-out")
    lee = _sign_in(browser, base_url, contexts, "lee@example.com")
    lee.goto("/templates/after-sign-out/versions/1")
    expect(lee.locator("#version-status")).to_have_text("Draft")
    copied = lee.context.cookies()
    lee.get_by_role("button", name="Sign out").click()
    expect(lee.get_by_role("heading", name="Sign in")).to_be_visible()
    lee.go_back()  # the page is asked for again, and the ended session sends it to sign in
    expect(lee.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(lee.locator("#version-status")).to_have_count(0)
    thief = _context(browser, base_url, contexts)
    thief.add_cookies(copied)  # type: ignore[arg-type]
    stolen = thief.new_page()
    stolen.goto("/templates/after-sign-out/versions/1")
    expect(stolen).to_have_url(re.compile(r"/login"))
    expect(stolen.locator("#version-status")).to_have_count(0)
