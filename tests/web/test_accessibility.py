"""Every main page, as the person who uses it, has no serious or critical axe-core violation.

axe-core (tests/web/vendor/axe-core, MPL-2.0) is injected into each page in Debian's Chromium
and run with the WCAG 2.0, 2.1 and 2.2 level A and AA rules. The pages' Content-Security-Policy
refuses injected scripts, so these browser contexts (and only these) bypass it; the other
browser tests check that no page breaks its policy, and so does the last test here, for the
letters shown as page images in their frames.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs import jobs
from hcs.archive.models import ArchiveEntry
from hcs.channels.letter import close_renderers
from hcs.cli.seeding import load_demo
from hcs.governance import authoring
from hcs.http.auth import limiter
from hcs.infrastructure.db import transaction
from hcs.worker.runtime import build_worker
from templates_store import blocks, versioning
from tests.support.flows import ORDER, ai_template, dispatch, send_ai
from tests.support.rounds import dispatch_round, flaky
from tests.support.server import serving
from tests.support.web import (
    CHROMIUM,
    LETTER_ADDRESS,
    NO_CHROMIUM,
    PASSWORD,
    PAYMENT,
    choose_tab,
    chromium,
)
from tests.support.world import World

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SERIOUS = {"serious", "critical"}
# The base URL; the ids of the archived letter, its message, the jobs, a message in doubt.
Site = tuple[str, dict[str, Any]]


def _content(world: World) -> dict[str, Any]:
    """The demo set; drafts in the editors and in review, an AI message, a letter, jobs, an
    email whose send is in doubt."""
    services = world.app.extensions["hcs"]
    with transaction(services.sessions) as session:
        load_demo(session)
        versioning.create_draft(session, "order-confirmation", author="ana@example.com")
        versioning.create_draft(session, "payment-due", author="ana@example.com")
        authoring.submit(session, "template", "payment-due", 2, actor="ana@example.com")
        versioning.create_draft(session, "payment-due", author="ana@example.com")  # a letter
        _components(session)
        ids = _jobs(session)
    ai_template(world)
    send_ai(world)
    dispatch(world)  # the AI text now waits for a person
    body = {
        "template": "payment-due",
        "channel": "letter",
        "to": {"address": LETTER_ADDRESS},
        "data": PAYMENT,
        "locale": "fr-FR",
    }
    answer = world.as_("system").post("/messages", body)
    assert answer.status_code == 202, answer.get_json()
    build_worker(services.settings, services.sessions).run_once()  # sends and archives
    with transaction(services.sessions) as session:
        query = select(ArchiveEntry.id, ArchiveEntry.message_id).where(
            ArchiveEntry.channel == "letter"
        )
        entry, letter = session.execute(query).one()
    return ids | {"entry": int(entry), "letter": letter, "doubt": _in_doubt(world)}


def _in_doubt(world: World) -> str:
    """An email whose provider call lost its answer: its send is in doubt (`unknown`)."""
    data = {
        "first_name": "Ana",
        "order_id": "A-1001",
        "order_total": {"amount": "84.50", "currency": "GBP"},
        "items": [{"name": "Linen shirt", "quantity": 1}],
        "delivery_date": "2026-12-02",
    }
    answer = world.as_("system").post("/messages", ORDER | {"data": data})
    assert answer.status_code == 202, answer.get_json()
    assert dispatch_round(world, flaky(world, drops=1)[0], 0) == ["unknown"]
    return str(answer.get_json()["id"])


def _components(session: Session) -> None:
    """A block and a theme each with a changed version in review (v2) and a draft (v3)."""
    ana = "ana@example.com"
    footer = blocks.create_block_draft(session, "footer", author=ana)
    footer.content = footer.content | {"text": {"en": "Northwind Goods · 12 Harbour Street"}}
    authoring.submit(session, "block", "footer", 2, actor=ana)
    blocks.create_block_draft(session, "footer", author=ana)
    theme = blocks.create_theme_draft(session, "default", author=ana)
    theme.settings = theme.settings | {"support_phone": "+44 20 7946 0000"}
    authoring.submit(session, "theme", "default", 2, actor=ana)
    blocks.create_theme_draft(session, "default", author=ana)


def _jobs(session: Session) -> dict[str, int]:
    """Ana's jobs: an import running, one that made drafts, one a bad file stopped."""
    ana = "ana@example.com"
    running = jobs.start_job(session, kind="import", owner=ana, title="Import of a.zip", total=600)
    jobs.advance(session, running.id, 120, step="Checking files")
    done = jobs.start_job(session, kind="import", owner=ana, title="Import of b.zip", total=3)
    report = {"drafts": ["order-confirmation v2", "_blocks/footer v3"], "created": []}
    jobs.succeed(session, done.id, report | {"unchanged": ["password-reset"]})
    failed = jobs.start_job(session, kind="import", owner=ana, title="Import of c.zip", total=2)
    errors = {"bad/sms.body.en.txt": ["line 1: unexpected end of template"]}
    jobs.fail(session, failed.id, "2 problems", result={"errors": errors})
    return {"running": running.id, "imported": done.id, "failed": failed.id}


@pytest.fixture(scope="module")
def site(module_world: World) -> Iterator[Site]:
    ids = _content(module_world)
    with serving(module_world.app) as url:
        yield url, ids
    close_renderers()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


def _signed_in(browser: Any, base_url: str, email: str | None, *, bypass_csp: bool = True) -> Any:
    context = browser.new_context(base_url=base_url, bypass_csp=bypass_csp)
    context.set_default_timeout(10_000)
    page = context.new_page()
    if email:
        limiter.reset()  # the login limit is for attackers, not for a module of quick tests
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        sync_api.expect(page.get_by_text(f"Signed in as {email}", exact=True)).to_be_visible()
    return page


def _violations(page: Any) -> list[str]:
    """The serious and critical WCAG A/AA violations axe finds on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    options = {"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
    found = page.evaluate("options => axe.run(document, options)", options)
    return [
        f"{page.url} [{v['impact']}] {v['id']}: {v['help']} — "
        + json.dumps([node["target"] for node in v["nodes"]][:5])
        + f" — {v['nodes'][0]['failureSummary']}"
        for v in found["violations"]
        if v["impact"] in SERIOUS
    ]


PAGES = {
    None: ["/login"],
    "ana@example.com": [
        "/",
        "/templates",
        "/templates/new",
        "/templates/order-confirmation",
        "/templates/order-confirmation/versions/2/edit",
        "/templates/payment-due/versions/3/edit",
        "/templates/import",
        "/jobs/{running}",
        "/jobs/{imported}",
        "/jobs/{failed}",
        "/blocks",
        "/themes",
        "/blocks/footer",
        "/themes/default",
        "/blocks/footer/versions/3/edit",
        "/themes/default/versions/3/edit",
    ],
    "lee@example.com": [
        "/blocks/footer/versions/2",
        "/themes/default/versions/2",
        "/templates/payment-due/versions/2",
        "/templates/payment-due/versions/2/grid",
        "/templates/payment-due/versions/2/letter/fr-FR",  # what the grid's letter frame shows
        "/templates/order-confirmation/versions/2/grid",
    ],
    "sam@example.com": ["/signoffs", "/messages/{letter}"],
    "aud@example.com": [
        "/archive",
        "/archive/{entry}",
        "/archive/{entry}/rendered",
        "/audit",
        "/messages",
        "/messages/{letter}",
    ],
    "root@example.com": [
        "/messages/{doubt}",
        "/admin/users",
        "/admin/keys",
        "/admin/groups",
        "/admin/policies",
        "/admin/policies/marketing",
        "/admin/providers",
    ],
}


def _settled(page: Any, path: str) -> None:
    """Wait for what the page loads after itself: the editor's live preview."""
    if path == "/templates/order-confirmation/versions/2/edit":
        sync_api.expect(page.locator("#preview-sms-en .bubble")).to_be_visible()
    elif path.startswith("/templates/") and path.endswith("/edit"):
        letter = page.frame_locator('iframe[name="frame-letter-en"]')
        sync_api.expect(letter.get_by_alt_text("Page 1 of 1")).to_be_visible()


def test_the_main_pages_have_no_serious_accessibility_violations(browser: Any, site: Site) -> None:
    base_url, ids = site
    problems: list[str] = []
    for person, paths in PAGES.items():
        page = _signed_in(browser, base_url, person)
        for path in paths:
            answer = page.goto(path.format(**ids))
            assert answer is not None and answer.status == 200, (person, path)
            _settled(page, path)
            problems += _violations(page)
        page.context.close()
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_violation_when_there_is_one(browser: Any, site: Site) -> None:
    page = _signed_in(browser, site[0], None)
    page.goto("/login")
    page.evaluate("document.querySelector('label[for]').remove()")  # a field without its label
    problems = _violations(page)
    page.context.close()
    assert any(re.search(r"\] label: ", problem) for problem in problems), problems


def test_pages_showing_errors_have_no_serious_accessibility_violations(
    browser: Any, site: Site
) -> None:
    visitor = _signed_in(browser, site[0], None)
    visitor.goto("/login")
    visitor.get_by_label("Email").fill("ana@example.com")
    visitor.get_by_label("Password").fill("not the password")
    visitor.get_by_role("button", name="Sign in").click()
    sync_api.expect(visitor.get_by_role("alert")).to_be_visible()
    problems = _violations(visitor)
    ana = _signed_in(browser, site[0], "ana@example.com")
    ana.goto("/templates/new")
    ana.get_by_label("Key").fill("no-channels")
    ana.get_by_label("Name").fill("No channels")
    ana.get_by_label("Category").select_option("transactional")
    ana.get_by_role("button", name="Create and open the editor").click()  # without a channel
    sync_api.expect(ana.locator("#channels-error")).to_be_visible()
    problems += _violations(ana)
    ana.goto("/templates/order-confirmation/versions/2/edit")
    choose_tab(ana, "Variables and sample data")
    ana.locator("#f-variables-0-name").fill("9lives")
    sync_api.expect(ana.locator("#live-f-variables-0-name")).to_contain_text("Must start with")
    problems += _violations(ana)  # the live preview's error, next to its field
    ana.get_by_role("button", name="Save", exact=True).click()
    sync_api.expect(ana.locator("#editor-errors")).to_be_visible()
    problems += _violations(ana)  # the form sent back with its errors
    ana.goto("/blocks/footer/versions/3/edit")
    ana.get_by_label("HTML (en)").fill("<p>{% if %}</p>")
    ana.get_by_role("button", name="Save", exact=True).click()
    sync_api.expect(ana.locator("#f-html-en-error")).to_be_visible()
    problems += _violations(ana)  # a block's syntax error next to its field
    ana.goto("/templates/import")
    upload = {"name": "t.zip", "mimeType": "application/zip", "buffer": b"not a zip"}
    ana.get_by_label("Zip file (up to 8 MB)").set_input_files(upload)
    ana.get_by_role("button", name="Import as drafts").click()
    sync_api.expect(ana.locator("#import-errors")).to_be_visible()
    problems += _violations(ana)
    aud = _signed_in(browser, site[0], "aud@example.com")
    aud.goto("/archive?since=yesterday")
    sync_api.expect(aud.locator("#since-error")).to_be_visible()
    problems += _violations(aud)
    for page in (visitor, ana, aud):
        page.context.close()
    assert not problems, "\n".join(problems)


def test_letter_pages_show_in_their_frames_under_the_real_policy(browser: Any, site: Site) -> None:
    base_url, ids = site
    entry = ids["entry"]
    refusals: list[str] = []
    shown = []
    for person, path, frame in (
        (
            "ana@example.com",
            "/templates/payment-due/versions/3/edit",
            'iframe[name="frame-letter-en"]',
        ),
        ("lee@example.com", "/templates/payment-due/versions/2/grid", "iframe.letter >> nth=0"),
        ("aud@example.com", f"/archive/{entry}", "iframe.letter"),
    ):
        page = _signed_in(browser, base_url, person, bypass_csp=False)
        page.on("console", lambda m: refusals.append(m.text))
        page.goto(path)
        image = page.frame_locator(frame).get_by_role("img", name="Page 1 of 1")
        sync_api.expect(image).to_be_visible()
        shown.append(image.evaluate("img => img.naturalWidth"))
        page.context.close()
    refusals = [text for text in refusals if "Content Security Policy" in text]
    assert shown == [827, 827, 827] and not refusals, (shown, refusals)


def test_an_admin_settles_a_send_in_doubt_from_the_home_page(browser: Any, site: Site) -> None:
    """From home to the message; a settlement without a choice is refused on the page (checked
    by axe too), then "send it again" queues it, said on the page."""
    root = _signed_in(browser, site[0], "root@example.com")
    root.goto("/")
    root.get_by_role("link", name="Messages whose send is in doubt").click()
    root.get_by_role("link", name=site[1]["doubt"]).click()
    sync_api.expect(root.locator("#in-doubt")).to_contain_text("may or may not have it")
    root.get_by_role("button", name="Settle this message").click()
    sync_api.expect(root.get_by_role("alert")).to_contain_text("choose what became of it")
    problems = _violations(root)
    root.get_by_label("Send it again, marked as a possible duplicate").check()
    root.get_by_role("button", name="Settle this message").click()
    sync_api.expect(root.get_by_text("queued to be sent again")).to_be_visible()
    sync_api.expect(root.locator("#state")).to_contain_text("queued")
    sync_api.expect(root.locator("#events")).to_contain_text("possible_duplicate")
    root.context.close()
    assert not problems, "\n".join(problems)
