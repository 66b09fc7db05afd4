"""The visual email editor in Debian's Chromium: a marketer who writes no HTML builds an email of
blocks, previews it, and submits it; the stored HTML is what the document compiles to, byte for
byte. And the SMS meter names the character that would make a text cost more."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from hcs.governance import authoring
from hcs.http.auth import limiter
from hcs.infrastructure.db import transaction
from templates_store import blocks, versioning
from templates_store.lookup import get_version
from templates_store.status import Status
from templates_store.visual_document import clean_document
from templates_store.visual_email import compile_email
from tests.support.server import serving
from tests.support.web import (
    CHROMIUM,
    NO_CHROMIUM,
    PASSWORD,
    choose_tab,
    chromium,
    serious_violations,
)
from tests.support.world import World

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect
# The live preview renders on the server after a pause in typing; on a busy machine (the whole
# suite, PostgreSQL beside it) that has taken longer than Playwright's default 5 s.
expect.set_options(timeout=15_000)

VARIABLES = [
    {"name": "first_name", "type": "string", "required": True, "example": "Ana"},
    {"name": "is_member", "type": "boolean", "required": False, "example": True},
]
REVIEWER = ("reviewer",)
HAND_WRITTEN = (
    '<html lang="en"><body><p>Hello {{ first_name }}</p>{{ block("unsubscribe") }}</body></html>'
)


@pytest.fixture(scope="module")
def app(module_world: World) -> Flask:
    with transaction(module_world.app.extensions["hcs"].sessions) as session:
        blocks.create_block(session, key="unsubscribe", name="Unsubscribe")
        blocks.create_block_draft(
            session,
            "unsubscribe",
            author="bo@example.com",
            content={
                "html": {"en": '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'},
                "text": {"en": "Unsubscribe: {{ unsubscribe_url }}"},
            },
        )
        authoring.submit(session, "block", "unsubscribe", 1, actor="bo@example.com")
        authoring.decide(
            session,
            "block",
            "unsubscribe",
            1,
            approve=True,
            actor="lee@example.com",
            roles=REVIEWER,
        )
        authoring.publish(session, "block", "unsubscribe", 1, actor="lee@example.com")
    return module_world.app


@pytest.fixture(scope="module")
def base_url(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


def make_template(app: Flask, key: str, channels: list[str], parts: dict[str, Any]) -> None:
    with transaction(app.extensions["hcs"].sessions) as session:
        versioning.create_template(
            session, key=key, name=key.title(), category="marketing", channels=channels
        )
        content = {"parts": parts, "variables": VARIABLES, "sample_data": {"first_name": "Ana"}}
        versioning.create_draft(session, key, author="ana@example.com", content=content)


@pytest.fixture
def page(browser: Any, base_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Ana signed in; every CSP complaint and script error is a failure."""
    limiter.reset()
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(8_000)
    problems: list[str] = []
    opened = context.new_page()
    opened.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on("dialog", lambda dialog: dialog.accept())  # leaving an edited page goes on
    opened.goto("/login")
    opened.get_by_label("Email").fill("ana@example.com")
    opened.get_by_label("Password").fill(PASSWORD)
    opened.get_by_role("button", name="Sign in").click()
    expect(opened.get_by_text("Signed in as ana@example.com", exact=True)).to_be_visible()
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        shot = Path(tempfile.mkdtemp(prefix="hcs-visual-")) / f"{request.node.name}.png"
        opened.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failed test: {shot}", file=sys.stderr)
    context.close()
    assert not problems, problems


def retype(box: Any, text: str) -> None:
    box.click()
    box.press("ControlOrMeta+a")
    box.press_sequentially(text)


def answer_yes(page: Any, question: str, yes: str) -> None:
    """Answer the editor's own question (a dialog in the page) with the button `yes`."""
    dialog = page.get_by_role("dialog", name=question)
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=yes, exact=True).click()
    expect(dialog).to_be_hidden()


def choose_width(page: Any, section: str, name: str) -> None:
    """Press a preview's width button until it shows as pressed.

    Chromium drops a click that lands while the preview's frame is loading a new document (the
    live preview posts the form into it after each refresh), so one click may go nowhere.
    """
    pressed = page.locator(section).get_by_role("button", name=name)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pressed.click()
        try:
            expect(pressed).to_have_attribute("aria-pressed", "true", timeout=1_000)
            return
        except AssertionError:
            continue
    expect(pressed).to_have_attribute("aria-pressed", "true", timeout=1)


def add_block(page: Any, where: str, kind: str) -> None:
    page.get_by_label(f"Block to add to {where}", exact=True).select_option(kind)
    page.get_by_role("button", name=f"Add block to {where}", exact=True).click()


def test_a_marketer_builds_previews_and_submits_a_visual_email(app: Flask, page: Any) -> None:
    make_template(
        app,
        "spring-news",
        ["email"],
        {"email": {"en": {"subject": "Spring", "html": HAND_WRITTEN}}},
    )
    page.goto("/templates/spring-news/versions/1/edit")
    code = page.get_by_role("textbox", name="email html (en)")
    page.get_by_role("button", name="Use the visual editor…").click()
    answer_yes(page, "Design this email with the visual editor?", "Use the visual editor")
    expect(code).to_be_hidden()
    expect(page.get_by_text("email design (en, as JSON)")).to_be_hidden()

    retype(page.get_by_role("textbox", name="Paragraph, block 2 of 2: text"), "Spring is here. ")
    add_block(page, "the email", "columns")
    left = page.get_by_role("textbox", name="Paragraph, block 1 of 1: text").first
    retype(left, "New colours for you, ")
    page.get_by_label("Variable to insert into Paragraph, block 1 of 1: text").first.fill(
        "first_name"
    )
    page.get_by_role(
        "button", name="Insert variable into Paragraph, block 1 of 1: text"
    ).first.click()
    right = "right column of Two columns, block 3 of 3"
    page.get_by_role("button", name="Remove Paragraph, block 1 of 1").nth(1).click()
    add_block(page, right, "button")
    retype(page.get_by_role("textbox", name="Button, block 1 of 1: label"), "Shop now")
    page.get_by_label("Button, block 1 of 1: link address").fill("https://shop.example/spring")

    add_block(page, "the email", "if")
    page.get_by_label("Shown only if, block 4 of 4: Show when this variable is set").fill(
        "is_member"
    )
    inside = "inside of Shown only if, block 4 of 4"
    expect(page.get_by_role("list", name=f"Blocks of {inside}")).to_be_visible()
    member = page.get_by_role("list", name=f"Blocks of {inside}").get_by_role("textbox").first
    retype(member, "Members get 10% off.")
    add_block(page, "the email", "content")
    page.get_by_label("Content block, block 5 of 5: Content block").select_option("unsubscribe")

    frame = page.frame_locator("#preview-email-en iframe")
    expect(frame.get_by_text("New colours for you, Ana")).to_be_visible()
    expect(frame.get_by_role("link", name="Shop now")).to_have_attribute(
        "href", "https://shop.example/spring"
    )
    choose_width(page, "#preview-email-en", "Mobile width")
    expect(page.locator("#preview-email-en iframe")).to_have_class("width-mobile")

    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.get_by_text("Version 1 was submitted for review.")).to_be_visible()

    with transaction(app.extensions["hcs"].sessions) as session:
        version = get_version(session, "spring-news", 1)
        part = version.parts["email"]["en"]
        assert version.status is Status.IN_REVIEW
        kinds = [b["type"] for b in part["blocks"]["blocks"]]
        assert kinds == ["heading", "paragraph", "columns", "if", "content"]
        columns = part["blocks"]["blocks"][2]
        assert {"var": "first_name"} in columns["left"][0]["text"]
        assert columns["right"][0]["url"] == "https://shop.example/spring"
        assert part["blocks"]["blocks"][3]["variable"] == "is_member"
        recompiled = compile_email(clean_document(part["blocks"]), locale="en")
        assert recompiled["html"].encode() == part["html"].encode()
        assert recompiled["text"].encode() == part["text"].encode()
        assert "Members get 10% off." in part["html"] and "{% if is_member %}" in part["html"]


def test_cancelling_the_visual_editors_question_keeps_the_html_code(app: Flask, page: Any) -> None:
    make_template(
        app, "kept-code", ["email"], {"email": {"en": {"subject": "Kept", "html": HAND_WRITTEN}}}
    )
    page.goto("/templates/kept-code/versions/1/edit")
    page.get_by_role("button", name="Use the visual editor…").click()
    dialog = page.get_by_role("dialog", name="Design this email with the visual editor?")
    expect(dialog).to_contain_text("the HTML written here is replaced when you save")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("textbox", name="email html (en)")).to_be_visible()
    expect(page.get_by_role("button", name="Use the visual editor…")).to_be_visible()


def test_the_chosen_preview_width_survives_the_preview_refreshing_as_one_types(
    app: Flask, page: Any
) -> None:
    document = {"version": 1, "blocks": [{"type": "paragraph", "text": [{"text": "First"}]}]}
    make_template(
        app, "width-news", ["email"], {"email": {"en": {"subject": "Width", "blocks": document}}}
    )
    page.goto("/templates/width-news/versions/1/edit")
    frame = page.frame_locator("#preview-email-en iframe")
    expect(frame.get_by_text("First")).to_be_visible()
    choose_width(page, "#preview-email-en", "Mobile width")
    retype(page.get_by_role("textbox", name="Paragraph, block 1 of 1: text"), "Second")
    expect(frame.get_by_text("Second")).to_be_visible()  # a new preview came in
    expect(page.locator("#preview-email-en iframe")).to_have_class("width-mobile")
    expect(
        page.locator("#preview-email-en").get_by_role("button", name="Mobile width")
    ).to_have_attribute("aria-pressed", "true")


def test_converting_a_visual_email_to_code_is_one_way_and_keeps_the_html(
    app: Flask, page: Any
) -> None:
    document = {"version": 1, "blocks": [{"type": "paragraph", "text": [{"text": "Kept words"}]}]}
    make_template(
        app, "autumn-news", ["email"], {"email": {"en": {"subject": "Autumn", "blocks": document}}}
    )
    page.goto("/templates/autumn-news/versions/1/edit")
    expect(page.get_by_role("textbox", name="Paragraph, block 1 of 1: text")).to_have_text(
        "Kept words"
    )
    words = page.get_by_role("textbox", name="Paragraph, block 1 of 1: text")
    words.click()
    words.press("ControlOrMeta+a")
    page.get_by_role("button", name="Bold").click()
    expect(words.locator("b, strong")).to_have_text("Kept words")
    page.get_by_text("Content blocks to insert").click()  # in a design, a block is added
    page.get_by_role("button", name="Insert unsubscribe").click()
    expect(
        page.get_by_role("combobox", name="Content block, block 2 of 2: Content block")
    ).to_have_value("unsubscribe")
    add_block(page, "the email", "image")  # no address or alt text yet: the preview says where
    image = page.get_by_role("listitem", name="Image, block 3 of 3")
    expect(image).to_have_class("vblock has-problem")
    expect(page.locator("#live-f-email-en-blocks")).to_contain_text("blocks.2.alt")
    page.get_by_role("button", name="Remove Image, block 3 of 3").click()
    page.get_by_role("button", name="Convert to HTML code…").click()
    answer_yes(page, "Convert this email to HTML code?", "Convert to HTML code")
    expect(page.get_by_text("Converted to HTML code: save to keep it.")).to_be_visible()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    with transaction(app.extensions["hcs"].sessions) as session:
        part = get_version(session, "autumn-news", 1).parts["email"]["en"]
        assert "blocks" not in part and "<strong>Kept words</strong>" in part["html"]


def test_the_sms_meter_names_the_character_that_forces_ucs2(app: Flask, page: Any) -> None:
    make_template(app, "sms-news", ["sms"], {"sms": {"en": {"body": "Hi {{ first_name }}"}}})
    page.goto("/templates/sms-news/versions/1/edit")
    meter = page.locator("#panel-sms-en .meter")
    expect(meter).to_contain_text("3 characters + 1 variable · GSM-7 · 1 segment")
    body = page.get_by_role("textbox", name="sms body (en)", exact=True)
    body.press("ControlOrMeta+a")
    body.press_sequentially("It’s here ☕ {{ first_name }}")
    expect(meter).to_contain_text("UCS-2 because of: “☕” (U+2615)")
    expect(meter).to_contain_text("“’” → “'”")


EVERY_KIND = {
    "version": 1,
    "blocks": [
        {"type": "heading", "level": 1, "text": [{"text": "Hi "}, {"var": "first_name"}]},
        {
            "type": "paragraph",
            "text": [{"text": "Bold", "bold": True, "link": "https://a.example/"}],
        },
        {"type": "image", "src": "https://a.example/i.png", "alt": "A logo", "width": 100},
        {"type": "divider"},
        {"type": "spacer", "height": 12},
        {
            "type": "columns",
            "left": [{"type": "list", "items": [[{"text": "one"}]]}],
            "right": [{"type": "button", "label": [{"text": "Go"}], "url": "https://a.example/"}],
        },
        {"type": "if", "variable": "is_member", "blocks": [], "otherwise": []},
        {"type": "repeat", "variable": "first_name", "blocks": []},
        {"type": "content", "key": "unsubscribe"},
    ],
}


def test_the_visual_editor_and_the_meter_have_no_serious_accessibility_violations(
    app: Flask, browser: Any, base_url: str
) -> None:
    parts = {
        "email": {"en": {"subject": "All", "blocks": EVERY_KIND}},
        "sms": {"en": {"body": "Hi ☕"}},
    }
    make_template(app, "every-kind", ["email", "sms"], parts)
    limiter.reset()
    context = browser.new_context(base_url=base_url, bypass_csp=True)  # axe runs inline
    context.set_default_timeout(8_000)
    checked = context.new_page()
    checked.goto("/login")
    checked.get_by_label("Email").fill("ana@example.com")
    checked.get_by_label("Password").fill(PASSWORD)
    checked.get_by_role("button", name="Sign in").click()
    expect(checked.get_by_text("Signed in as ana@example.com", exact=True)).to_be_visible()
    checked.goto("/templates/every-kind/versions/1/edit")
    expect(checked.get_by_role("listitem", name="Content block, block 9 of 9")).to_be_visible()
    expect(checked.locator("#preview-email-en iframe")).to_be_visible()
    found = serious_violations(checked)
    choose_tab(checked, "sms · en")
    expect(checked.locator("#panel-sms-en .meter")).to_contain_text("UCS-2")
    found += serious_violations(checked)
    context.close()
    assert found == [], "\n".join(found)


def test_without_javascript_the_design_is_a_form_that_adds_a_block_and_saves(
    app: Flask, browser: Any, base_url: str
) -> None:
    document = {"version": 1, "blocks": [{"type": "paragraph", "text": [{"text": "Plain words"}]}]}
    make_template(
        app, "plain-news", ["email"], {"email": {"en": {"subject": "Plain", "blocks": document}}}
    )
    limiter.reset()
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    context.set_default_timeout(15_000)
    try:
        plain = context.new_page()
        plain.goto("/login")
        plain.get_by_label("Email").fill("ana@example.com")
        plain.get_by_label("Password").fill(PASSWORD)
        plain.get_by_role("button", name="Sign in").click()
        expect(plain.get_by_text("Signed in as ana@example.com", exact=True)).to_be_visible()
        plain.goto("/templates/plain-news/versions/1/edit")
        plain.get_by_role("link", name="Edit the design (en) as a form").click()
        first = plain.get_by_role("group", name="Paragraph, block 1 of 1")
        expect(first.get_by_label("Text")).to_have_value("Plain words")
        plain.get_by_label("Block to add to the email", exact=True).select_option("button")
        plain.get_by_role("button", name="Add block to the email", exact=True).click()
        button = plain.get_by_role("group", name="Button, block 2 of 2")
        button.get_by_label("Label").fill("Read more")
        button.get_by_label("Link address", exact=False).fill("https://news.example/")
        plain.get_by_role("button", name="Move Button, block 2 of 2 up").click()
        expect(plain.get_by_role("group", name="Button, block 1 of 2")).to_be_visible()
        plain.get_by_role("button", name="Save the design").click()
        expect(plain.get_by_text("Saved.")).to_be_visible()
    finally:
        context.close()
    with transaction(app.extensions["hcs"].sessions) as session:
        part = get_version(session, "plain-news", 1).parts["email"]["en"]
        assert [b["type"] for b in part["blocks"]["blocks"]] == ["button", "paragraph"]
        assert part["blocks"]["blocks"][0]["label"] == [{"text": "Read more"}]
        assert "Read more" in part["html"] and "https://news.example/" in part["html"]


def test_a_variable_goes_where_the_typing_stopped_even_before_the_browser_reports_the_caret(
    app: Flask, page: Any
) -> None:
    """Chromium reports a moved caret (`selectionchange`) a moment later; a busy machine once
    inserted the variable where the caret had been before the last words were typed."""
    make_template(
        app, "caret", ["email"], {"email": {"en": {"subject": "S", "html": HAND_WRITTEN}}}
    )
    page.goto("/templates/caret/versions/1/edit")
    page.get_by_role("button", name="Use the visual editor…").click()
    answer_yes(page, "Design this email with the visual editor?", "Use the visual editor")
    box = page.get_by_role("textbox", name="Paragraph, block 2 of 2: text")
    retype(box, "Hello ")
    page.wait_for_timeout(200)  # the caret after "Hello " is reported
    # Words typed and the variable inserted in one go: no `selectionchange` runs in between.
    box.evaluate(
        """area => {
            document.execCommand("insertText", false, "and welcome, ");
            const field = area.closest(".vtext-field");
            field.querySelector(".vpicker").value = "first_name";
            const buttons = [...field.querySelectorAll("button")];
            buttons.find(b => b.textContent === "Insert variable").click();
        }"""
    )
    expect(box).to_have_text("Hello and welcome, first_name")
