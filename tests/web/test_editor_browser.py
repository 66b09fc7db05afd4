"""The editor's forms, tests to oneself and the unsaved-changes guard, in Debian's Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from hcs.http.auth import limiter
from hcs.infrastructure.db import transaction
from templates_store import versioning
from tests.support.server import serving
from tests.support.web import CHROMIUM, NO_CHROMIUM, PASSWORD, choose_tab, chromium
from tests.support.world import World

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect
# The elements that reach past the right edge, to say what overflows when one does.
WIDEST = """[...document.querySelectorAll('main *')]
  .filter(e => e.getBoundingClientRect().right > 392).slice(0, 5)
  .map(e => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""
EMAIL = {
    "subject": "Your order {{ order_id }}",
    "html": "<html><body><p>Order {{ order_id }} is on its way.</p></body></html>",
}


@pytest.fixture(scope="module")
def world(module_world: World) -> World:
    return module_world


@pytest.fixture(scope="module")
def app(world: World) -> Flask:
    return world.app


@pytest.fixture(scope="module")
def base_url(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def sign_in(browser: Any, base_url: str) -> Iterator[Any]:
    limiter.reset()
    contexts: list[Any] = []
    problems: list[str] = []

    def open_as(email: str, width: int = 1280) -> Any:
        context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 900})
        context.set_default_timeout(5_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text(f"Signed in as {email}", exact=True)).to_be_visible()
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert not problems, problems


def _draft(app: Flask, key: str, *, status: str = "draft") -> int:
    with transaction(app.extensions["hcs"].sessions) as session:
        versioning.create_template(
            session, key=key, name=key, category="transactional", channels=["email", "sms"]
        )
        content = {
            "parts": {"email": {"en": EMAIL}, "sms": {"en": {"body": "Order {{ order_id }}."}}},
            "variables": [{"name": "order_id", "type": "string", "required": True}],
            "sample_data": {"order_id": "A-5"},
        }
        version = versioning.create_draft(session, key, author="ana@example.com", content=content)
        if status == "in_review":
            versioning.submit(session, key, version.number)
        return version.number


def test_an_unsaved_change_warns_before_leaving_and_before_adding_a_locale(
    app: Flask, sign_in: Any
) -> None:
    number = _draft(app, "guarded")
    ana = sign_in("ana@example.com")
    ana.goto(f"/templates/guarded/versions/{number}/edit")
    choose_tab(ana, "sms · en")
    ana.get_by_role("textbox", name="sms body (en)", exact=True).press_sequentially(" Thanks!")
    seen: list[tuple[str, str]] = []

    def stay(dialog: Any) -> None:
        seen.append((dialog.type, dialog.message))
        dialog.dismiss()

    ana.on("dialog", stay)
    ana.get_by_label("Add a locale").fill("fr")
    ana.get_by_role("button", name="Add locale").click()
    expect(ana.get_by_role("tab", name="sms · en")).to_be_visible()
    assert seen and seen[-1][0] == "confirm" and "not saved" in seen[-1][1]
    assert "add_locale" not in ana.url  # it stayed, the typed text with it
    ana.get_by_role("link", name="Templates", exact=True).click()
    ana.wait_for_timeout(300)
    assert any(kind == "beforeunload" for kind, _ in seen)
    assert ana.url.endswith("/edit")
    expect(ana.locator("#f-sms-en-body")).to_have_value(re.compile("Thanks!"))  # still typed
    ana.remove_listener("dialog", stay)
    ana.once("dialog", lambda dialog: dialog.accept())
    ana.get_by_role("button", name="Save", exact=True).click()
    expect(ana.get_by_role("status")).to_contain_text("Saved.")
    ana.get_by_role("link", name="Templates", exact=True).click()  # saved: no question
    expect(ana.get_by_role("heading", name="Templates")).to_be_visible()


def test_forms_save_and_show_each_fields_error(app: Flask, sign_in: Any) -> None:
    number = _draft(app, "formed-browser")
    ana = sign_in("ana@example.com")
    ana.goto(f"/templates/formed-browser/versions/{number}/edit")
    choose_tab(ana, "Variables and sample data")
    ana.locator("#f-variables-1-name").fill("first_name")
    ana.locator("#f-variables-1-name").press("Tab")  # moving on from the name declares it
    ana.locator("#f-variables-1-data_class").select_option("personal")
    # Named, the variable has its sample field and its input box at once, before any save.
    ana.get_by_role("group", name="Default").get_by_label("first_name").fill("Sam")
    slot = ana.get_by_role("group", name="A new slot")
    slot.get_by_label("first_name").check()
    slot.get_by_label("Name", exact=True).fill("opener")
    slot.get_by_label("Bound (characters)").fill("0")
    slot.get_by_label("Instruction to the model").fill("Greet them.")
    ana.get_by_role("button", name="Save", exact=True).click()
    expect(ana.get_by_role("status")).to_contain_text("Saved.")
    expect(ana.locator("#editor-errors")).to_contain_text("must be corrected")
    choose_tab(ana, "Variables and sample data")
    expect(ana.locator("#f-ai_slots-0-max_chars-error")).to_contain_text("between 1 and")
    expect(ana.locator("#f-ai_slots-0-fallback-error")).to_contain_text("is required")
    expect(ana.locator("#f-ai_slots-0-max_chars")).to_have_attribute("aria-invalid", "true")
    default = ana.get_by_role("group", name="Default")
    expect(default.get_by_label("first_name")).to_have_value("Sam")  # saved with the draft
    expect(ana.locator("#f-ai_slots-0-inputs-first_name")).to_be_checked()


def test_send_a_test_from_the_review_page_lands_in_the_outbox(app: Flask, sign_in: Any) -> None:
    number = _draft(app, "proof-browser", status="in_review")
    folder = Path(app.extensions["hcs"].settings.outbox_dir) / "email"
    before = set(folder.glob("*.eml")) if folder.exists() else set()
    lee = sign_in("lee@example.com")
    lee.goto(f"/templates/proof-browser/versions/{number}")
    lee.get_by_text("Send a test to yourself").click()
    lee.get_by_label("Channel and locale").select_option("email|en")
    lee.get_by_role("button", name="Send a test").click()
    expect(lee.get_by_role("status")).to_contain_text("was sent to you at lee@example.com")
    (written,) = set(folder.glob("*.eml")) - before
    mail = message_from_bytes(written.read_bytes())
    assert mail["To"] == "lee@example.com" and mail["Subject"].startswith("[TEST] ")


@pytest.mark.parametrize("who", ["ana", "lee"])
def test_the_main_pages_fit_a_390_px_wide_phone(app: Flask, sign_in: Any, who: str) -> None:
    key = f"narrow-{who}"
    number = _draft(app, key, status="draft" if who == "ana" else "in_review")
    page = sign_in(f"{who}@example.com", width=390)
    paths = ["/", "/templates", f"/templates/{key}"]
    paths.append(
        f"/templates/{key}/versions/{number}/edit"
        if who == "ana"
        else f"/templates/{key}/versions/{number}"
    )
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(WIDEST)
        assert width <= 390, f"{path} is {width} px wide: {wide}"


@pytest.mark.parametrize(
    ("who", "paths"),
    [
        ("aud", ["/archive", "/audit", "/messages"]),
        ("sam", ["/signoffs"]),
        ("root", ["/admin/users", "/admin/groups", "/admin/keys", "/admin/policies"]),
    ],
)
def test_the_archive_sign_off_and_admin_pages_fit_a_390_px_wide_phone(
    app: Flask, sign_in: Any, who: str, paths: list[str]
) -> None:
    page = sign_in(f"{who}@example.com", width=390)
    for path in paths:
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, path
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(WIDEST)
        assert width <= 390, f"{path} is {width} px wide: {wide}"
