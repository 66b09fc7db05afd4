"""The web editor in Debian's Chromium against a running server: the story and the refusals."""

from __future__ import annotations

import json
import re
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from hcs import jobs
from hcs.archive.models import ArchiveEntry
from hcs.governance import authoring
from hcs.http.auth import limiter
from hcs.identity import create_user, set_roles
from hcs.infrastructure.db import transaction
from hcs.sealing import seal_pending
from hcs.worker.runtime import build_worker
from tests.support.flows import ai_template, dispatch
from tests.support.server import serving
from tests.support.web import CHROMIUM, NO_CHROMIUM, PASSWORD, choose_tab, chromium, make_draft
from tests.support.world import World

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect


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
def browser() -> Iterator[sync_api.Browser]:
    with chromium() as browser:
        yield browser


class People:
    """One browser context per person; every console message about the CSP is kept."""

    def __init__(self, browser: sync_api.Browser, base_url: str) -> None:
        self.browser, self.base_url = browser, base_url
        self.contexts: list[sync_api.BrowserContext] = []
        self.pages: dict[str, sync_api.Page] = {}
        self.violations: list[str] = []

    def sign_in(self, email: str) -> sync_api.Page:
        context = self.browser.new_context(base_url=self.base_url)
        context.set_default_timeout(5_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", self._watch)
        page.on("pageerror", lambda error: self.violations.append(f"page error: {error}"))
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text(f"Signed in as {email}", exact=True)).to_be_visible()
        self.pages[email] = page
        return page

    def _watch(self, message: sync_api.ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(
    browser: sync_api.Browser, base_url: str, request: pytest.FixtureRequest
) -> Iterator[People]:
    # Each test signs its people in afresh: the login limit (5 a minute per address and
    # person) is for attackers, not for a module of tests that runs in seconds.
    limiter.reset()
    crowd = People(browser, base_url)
    yield crowd
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = Path(tempfile.mkdtemp(prefix="hcs-browser-"))
        for email, page in crowd.pages.items():
            page.screenshot(path=str(folder / f"{request.node.name}-{email}.png"), full_page=True)
        print(f"screenshots of the failed test are in {folder}", file=sys.stderr)
    crowd.close()
    assert not crowd.violations, crowd.violations


def _preview(page: sync_api.Page, channel: str) -> sync_api.Locator:
    return page.locator(f"#preview-{channel}-en")


def _code(page: sync_api.Page, label: str) -> sync_api.Locator:
    """A template field's code editor, found by its label as a person's screen reader finds it."""
    return page.get_by_role("textbox", name=label, exact=True)


def _open_tab(page: sync_api.Page, name: str, label: str) -> None:
    """Open a tab once the page's scripts have set its tabs up, and see its field."""
    choose_tab(page, name)
    expect(_code(page, label)).to_be_visible()


def _rewrite(page: sync_api.Page, label: str, text: str) -> None:
    """Select all of a code editor's text and type `text` over it."""
    editor = _code(page, label)
    editor.press("ControlOrMeta+a")
    editor.press_sequentially(text)


def test_an_author_writes_with_live_preview_and_a_reviewer_approves_and_publishes(
    people: People,
) -> None:
    ana = people.sign_in("ana@example.com")
    ana.get_by_role("link", name="New template").first.click()
    ana.get_by_label("Key").fill("welcome")
    ana.get_by_label("Name").fill("Welcome")
    ana.get_by_label("Category").select_option("transactional")
    ana.get_by_label("email").check()
    ana.get_by_label("sms").check()
    ana.get_by_role("button", name="Create and open the editor").click()
    expect(ana.get_by_role("heading", name="Welcome: version 1")).to_be_visible()

    choose_tab(ana, "Variables and sample data")
    ana.locator("#f-variables-0-name").fill("order_id")
    ana.locator("#f-variables-0-required").check()
    ana.locator("#f-variables-0-example").fill("A-1001")
    ana.get_by_role("button", name="Save", exact=True).click()
    expect(ana.get_by_role("status")).to_contain_text("Saved.")
    choose_tab(ana, "Variables and sample data")
    default = ana.get_by_role("group", name="Default")  # the sample form follows the schema
    default.get_by_label("order_id (required)").fill("A-1001")
    _open_tab(ana, "sms · en", "sms body (en)")
    _code(ana, "sms body (en)").press_sequentially("Hello {{ order_id }}", delay=10)
    expect(_preview(ana, "sms").locator(".bubble")).to_have_text("[DRAFT] Hello A-1001")
    expect(_preview(ana, "sms")).to_contain_text("GSM-7 · 1 segment")
    _code(ana, "sms body (en)").press_sequentially(" ✓")  # a UCS-2 character
    expect(_preview(ana, "sms")).to_contain_text("UCS-2 · 1 segment")

    choose_tab(ana, "email · en")
    _rewrite(ana, "email subject (en)", "Welcome {{ order_id }}")
    _rewrite(ana, "email html (en)", '<p style="color:#333">Order {{ order_id }}</p>')
    email = ana.frame_locator('iframe[name="frame-email-en"]')
    expect(email.locator("p").last).to_have_text("Order A-1001")
    expect(_preview(ana, "email").locator(".subject")).to_have_text("[DRAFT] Welcome A-1001")
    _preview(ana, "email").get_by_role("button", name="Mobile width").click()
    expect(_preview(ana, "email").locator("iframe")).to_have_class(re.compile("width-mobile"))
    ana.get_by_role("button", name="Save and submit for review").click()
    expect(ana.locator("#version-1")).to_contain_text("In review")

    lee = people.sign_in("lee@example.com")
    lee.get_by_role("link", name=re.compile("welcome · version 1")).click()
    expect(lee.locator("#findings")).to_be_visible()
    lee.get_by_label("Comment (optional)").fill("Fine by legal.")
    lee.get_by_role("button", name="Approve").click()
    expect(lee.locator("#version-status")).to_have_text("Approved")
    lee.once("dialog", lambda dialog: dialog.accept())  # "Publish version 1?"
    lee.get_by_role("button", name="Publish version 1").click()
    expect(lee.locator("#version-status")).to_have_text("Published")

    ana.goto("/templates/welcome")
    ana.get_by_role("button", name="New draft from v1").click()
    _open_tab(ana, "sms · en", "sms body (en)")
    _rewrite(ana, "sms body (en)", "Hi again {{ order_id }}")
    expect(_preview(ana, "sms").locator(".bubble")).to_have_text("[DRAFT] Hi again A-1001")
    ana.get_by_role("button", name="Save and submit for review").click()
    expect(ana.locator("#version-2")).to_contain_text("In review")

    lee.goto("/templates/welcome/versions/2")
    expect(lee.locator("#diff .add")).to_contain_text("+Hi again {{ order_id }}")
    expect(lee.locator("#diff .del")).to_contain_text("-Hello {{ order_id }} ✓")
    lee.get_by_role("button", name="Approve").click()
    expect(lee.locator("#version-status")).to_have_text("Approved")
    lee.once("dialog", lambda dialog: dialog.accept())  # "Publish version 2?"
    lee.get_by_role("button", name="Publish version 2").click()
    expect(lee.locator("#version-status")).to_have_text("Published")


def _in_review(app: Flask, key: str, author: str) -> None:
    number = make_draft(app, key, author=author)
    with transaction(app.extensions["hcs"].sessions) as session:
        authoring.submit(session, "template", key, number, actor=author)


def test_an_author_cannot_approve_her_own_version(app: Flask, people: People) -> None:
    _in_review(app, "own-work", "max@example.com")
    max_ = people.sign_in("max@example.com")
    max_.goto("/templates/own-work/versions/1")
    max_.get_by_role("button", name="Approve").click()
    expect(max_.locator("#refusal")).to_contain_text("another reviewer must decide")
    expect(max_.locator("#version-status")).to_have_text("In review")


def test_a_reviewer_cannot_edit_a_draft_and_a_page_without_the_role_answers_403(
    app: Flask, people: People
) -> None:
    make_draft(app, "not-yours")
    lee = people.sign_in("lee@example.com")
    answer = lee.goto("/templates/not-yours/versions/1/edit")
    assert answer is not None and answer.status == 403
    expect(lee.locator("#page-error")).to_contain_text("author")
    aud = people.sign_in("aud@example.com")
    answer = aud.goto("/signoffs")
    assert answer is not None and answer.status == 403


def test_every_page_loads_without_breaking_its_content_security_policy(
    app: Flask, people: People
) -> None:
    _in_review(app, "csp-check", "ana@example.com")
    ana = people.sign_in("ana@example.com")
    for path in ("/", "/templates", "/templates/new", "/templates/csp-check"):
        ana.goto(path)
    sam = people.sign_in("sam@example.com")
    sam.goto("/signoffs")
    aud = people.sign_in("aud@example.com")
    lee = people.sign_in("lee@example.com")
    lee.goto("/templates/csp-check/versions/1")
    expect(lee.locator("#findings")).to_be_visible()
    lee.get_by_role("link", name="see it on every channel").click()
    expect(lee.locator("#preview-sms-en .bubble")).to_contain_text("Order A-1 is confirmed.")
    aud.goto("/audit")
    expect(aud.locator("#audit")).to_contain_text("template.submit")
    aud.goto("/archive")
    expect(aud.locator("#archive")).to_be_visible()
    root = people.sign_in("root@example.com")
    for path in (
        "/admin/users",
        "/admin/keys",
        "/admin/groups",
        "/admin/policies",
        "/admin/policies/marketing",
        "/admin/providers",
    ):
        root.goto(path)
        expect(root.locator("main h1")).to_be_visible()
    # The API's documentation: Swagger UI from our own origin, under the same policy.
    root.goto("/api/docs")
    expect(root.locator(".swagger-ui .info .title")).to_contain_text("HCS")
    expect(root.locator(".opblock").first).to_be_visible()


def _send(world: World, base_url: str) -> str:
    """A backend system sends through the API of the running server, with its key."""
    body = {
        "template": "order-thanks",
        "channel": "sms",
        "to": {"phone": "+447400123456"},
        "data": {"order_id": "A-1", "first_name": "Ana"},
    }
    request = urllib.request.Request(
        f"{base_url}/api/v1/messages",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {world.keys['system']}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 202
        return str(json.load(answer)["id"])


def test_a_system_sends_a_cx_agent_signs_off_and_an_auditor_sees_it_verified(
    world: World, base_url: str, people: People
) -> None:
    ai_template(world)  # a published template with an AI slot and its disclosure block
    message_id = _send(world, base_url)
    dispatch(world)  # the worker writes the AI text; the message waits for a person
    sam = people.sign_in("sam@example.com")
    sam.get_by_role("link", name="1 AI message waiting for sign-off").click()
    expect(sam.locator('mark[data-ai-slot="opener"]').first).to_be_visible()
    sam.get_by_role("button", name="Approve", exact=True).click()
    expect(sam.get_by_text("approved.")).to_be_visible()
    services = world.app.extensions["hcs"]
    build_worker(services.settings, services.sessions).run_once()  # sends and archives
    with transaction(services.sessions) as session:
        seal_pending(session, ArchiveEntry)

    aud = people.sign_in("aud@example.com")
    aud.get_by_role("link", name="Archive").click()
    aud.get_by_label("Template key").fill("order-thanks")
    aud.get_by_role("button", name="Search").click()
    expect(aud.locator("#archive")).to_contain_text(message_id)
    aud.locator("#archive a").first.click()
    expect(aud.locator("#integrity")).to_contain_text("Verified")
    expect(aud.locator("#output")).to_contain_text("Order A-1 is confirmed.")
    expect(aud.get_by_role("heading", name="AI provenance")).to_be_visible()


def _published_block(world: World, key: str, text: str) -> None:
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    ana.post("/blocks", {"key": key, "name": key.title()})
    content = {"text": {"en": text}, "html": {"en": f"<p>{text}</p>"}}
    ana.post(f"/blocks/{key}/versions", {"content": content})
    ana.post(f"/blocks/{key}/versions/1/submit")
    lee.post(f"/blocks/{key}/versions/1/approve")
    assert lee.post(f"/blocks/{key}/versions/1/publish").status_code == 200


def test_an_author_inserts_a_content_block_and_the_preview_shows_it(
    world: World, people: People
) -> None:
    _published_block(world, "sign-off-line", "Kind regards, Northwind")
    make_draft(world.app, "with-block")
    ana = people.sign_in("ana@example.com")
    ana.goto("/templates/with-block/versions/1/edit")
    body = _code(ana, "sms body (en)")
    body.press("ControlOrMeta+End")
    ana.get_by_text("Content blocks to insert").click()
    ana.get_by_role("button", name="Insert sign-off-line").click()
    field = ana.locator("#f-sms-en-body")  # the form's own field, kept in step with the editor
    expect(field).to_have_value(re.compile(r"\{\{ block\('sign-off-line'\) \}\}$"))
    expect(_preview(ana, "sms").locator(".bubble")).to_contain_text("Kind regards, Northwind")
    body.press_sequentially(" {{ nope }}")
    expect(ana.locator("#live-f-sms-en-body")).to_contain_text("'nope' is undefined")


def test_a_syntax_error_marks_its_line_in_the_code_editor_until_it_is_fixed(
    app: Flask, people: People
) -> None:
    make_draft(app, "marked-line")
    ana = people.sign_in("ana@example.com")
    ana.goto("/templates/marked-line/versions/1/edit")
    body = _code(ana, "sms body (en)")
    body.press("ControlOrMeta+End")
    body.press_sequentially("\nThanks.\n{{ order_id ")
    editor = ana.locator(".field", has=ana.locator("#f-sms-en-body")).locator(".CodeMirror")
    expect(editor.locator(".cm-jinja-tag").first).to_have_text("{{")
    expect(ana.locator("#live-f-sms-en-body")).to_contain_text("sms.body.en, line 3")
    marked = editor.locator(".line-problem")
    expect(marked).to_have_count(1)
    expect(marked.locator(".CodeMirror-linenumber")).to_have_text("3")
    expect(marked.locator("pre")).to_have_text("{{ order_id ")
    marker = marked.locator(".problem-marker")
    expect(marker).to_have_attribute("title", re.compile(r"^sms\.body\.en, line 3: "))
    expect(marker).to_have_attribute("aria-label", re.compile(r"^Line 3: sms\.body\.en"))
    expect(body).to_have_attribute("aria-invalid", "true")

    body.press_sequentially("}}")
    expect(_preview(ana, "sms").locator(".bubble")).to_contain_text("Thanks.\nA-1")
    expect(ana.locator("#live-f-sms-en-body")).to_be_empty()
    expect(editor.locator(".line-problem")).to_have_count(0)
    expect(editor.locator(".problem-marker")).to_have_count(0)
    expect(body).to_have_attribute("aria-invalid", "false")
    body.press("Tab")  # Tab leaves the editor and types nothing into it
    expect(body).not_to_be_focused()
    expect(ana.locator("#f-sms-en-body")).to_have_value(re.compile(r"\{\{ order_id \}\}$"))


def test_a_large_import_shows_its_progress_and_then_the_drafts_it_made(
    app: Flask, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = app.extensions["hcs"]
    monkeypatch.setattr(services, "settings", replace(services.settings, jobs_inline_limit=10))
    upload, count = tmp_path / "many.zip", 600
    with zipfile.ZipFile(upload, "w") as archive:
        for n in range(count):
            key = f"bulk-{n:04d}"
            manifest = f"key: {key}\nname: Bulk {n}\ncategory: transactional\nchannels: [sms]\n"
            archive.writestr(f"{key}/template.yaml", manifest)
            archive.writestr(f"{key}/sms.body.en.txt", f"Notice {n} {{{{ brand.company_name }}}}.")
    ana = people.sign_in("ana@example.com")
    ana.goto("/templates")
    ana.get_by_role("link", name="Import from files").click()
    ana.get_by_label("Zip file (up to 8 MB)").set_input_files(upload)
    ana.get_by_role("button", name="Import as drafts").click()
    expect(ana.get_by_role("heading", name="Import of many.zip")).to_be_visible()
    progress = ana.get_by_role("progressbar", name=re.compile(r"of 600"))
    expect(progress).to_have_attribute("max", str(count))
    # While it runs: how far it got, as text and as a bar; htmx then swaps in the result.
    label = ana.locator("#job-progress-label")
    expect(label).to_have_text(re.compile(r"Checking files: [1-9]\d* of 600 \(\d+%\)"))
    expect(ana.locator("#import-result")).to_contain_text("600 drafts created", timeout=60_000)
    expect(progress).to_have_count(0)
    ana.get_by_role("link", name="bulk-0599 v1").click()
    expect(ana).to_have_url(re.compile(r"/templates/bulk-0599/versions/1/edit$"))
    assert app.extensions["hcs.jobs"].wait(30)


def test_a_job_page_whose_session_ended_goes_to_sign_in_and_back(
    app: Flask, people: People
) -> None:
    with transaction(app.extensions["hcs"].sessions) as session:
        job = jobs.start_job(
            session, kind="export", owner="ana@example.com", title="Export of all", total=40
        )
        jobs.advance(session, job.id, 10, step="Reading versions")  # and it never moves on
    ana = people.sign_in("ana@example.com")
    ana.goto(f"/jobs/{job.id}")
    expect(ana.get_by_role("progressbar")).to_have_attribute("value", "10")
    ana.context.clear_cookies()  # the session expired
    # The next poll's answer takes the whole page to the sign-in form, not into the panel.
    expect(ana).to_have_url(re.compile(rf"/login\?next=/jobs/{job.id}$"))
    expect(ana.get_by_role("progressbar")).to_have_count(0)
    ana.get_by_label("Email").fill("ana@example.com")
    ana.get_by_label("Password").fill(PASSWORD)
    ana.get_by_role("button", name="Sign in").click()
    expect(ana).to_have_url(re.compile(rf"/jobs/{job.id}$"))
    expect(ana.get_by_role("progressbar")).to_have_attribute("value", "10")


def test_a_change_of_roles_ends_the_session_and_the_live_preview_asks_to_sign_in(
    app: Flask, people: People
) -> None:
    with transaction(app.extensions["hcs"].sessions) as session:
        create_user(
            session, email="dee@example.com", roles=["author"], password=PASSWORD, actor="t"
        )
    number = make_draft(app, "role-lost", author="dee@example.com")
    dee = people.sign_in("dee@example.com")
    dee.goto(f"/templates/role-lost/versions/{number}/edit")
    expect(_preview(dee, "sms").locator(".bubble")).to_contain_text("Order A-1 is confirmed.")
    expect(dee.get_by_role("alert")).to_have_count(0)
    with transaction(app.extensions["hcs"].sessions) as session:
        set_roles(session, "dee@example.com", ["reviewer"], actor="root@example.com")
    _rewrite(dee, "sms body (en)", "Order {{ order_id }} is on its way.")
    # The change of roles ended Dee's session: the next preview sends her to sign in again.
    expect(dee.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "/login" in dee.url
